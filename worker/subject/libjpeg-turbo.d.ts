/** The Emscripten factory of @cornerstonejs/codec-libjpeg-turbo-8bit (the package ships no types). */
declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs' {
  const createModule: (moduleArg: object) => Promise<unknown>;
  export default createModule;
}
