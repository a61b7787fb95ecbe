// What the end-to-end suite, the demo and the benchmarks import: the emulator's public API only.
export * from './src/index.js'
