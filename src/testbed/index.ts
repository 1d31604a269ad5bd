// The test bed shared by the e2e tests, the demo and the benchmarks.
export * from './cluster.js';
export * from './exec.js';
export * from './names.js';
export * from './ping.js';
export * from './process.js';
export * from './underlay.js';
export * from './wait.js';
export * from './forward.js';
export * from './udp.js';
export * from './kernel.js';
export * from './pool.js';
export * from './matrix.js';
export * from './preconditions.js';
export * from './lifecycle.js';
export * from './reap.js';
export * from './engines.js';
