// Types for the parts of @echogarden/espeak-ng-emscripten (GPL-3.0, a devDependency used only
// by scripts/make-corpus.ts, run as its own process) that scripts/corpus/espeak.ts calls.
declare module '@echogarden/espeak-ng-emscripten' {
  export interface EspeakEvent {
    type: string;
    text_position: number;
    word_length: number;
    /** milliseconds from the start of the synthesised audio */
    audio_position: number;
    id: string | number | undefined;
  }
  export interface EspeakWorker {
    get_samplerate(): number;
    set_voice(name: string): number;
    set_rate(wpm: number): number;
    set_pitch(pitch: number): number;
    set_range(range: number): number;
    synthesize(text: string, callback: (audio: Int16Array, events: EspeakEvent[]) => boolean): void;
  }
  export interface EspeakModule {
    eSpeakNGWorker: new () => EspeakWorker;
  }
  const factory: () => Promise<EspeakModule>;
  export default factory;
}
