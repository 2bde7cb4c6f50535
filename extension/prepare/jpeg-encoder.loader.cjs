/**
 * webpack loader for jpeg-js's encoder only: when bundled it sees a CommonJS `module` and
 * returns `Buffer.from(bytes)`, but browsers have no Buffer (webpack 5 no longer polyfills it).
 * A module-local Buffer whose `from` makes a Uint8Array gives the browser the same bytes;
 * nothing outside that one module is affected.
 */
module.exports = function jpegEncoderLoader(source) {
  return 'var Buffer = { from: function (bytes) { return Uint8Array.from(bytes); } };\n' + source;
};
