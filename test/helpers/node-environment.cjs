/**
 * jest runs tests in a separate V8 context whose typed-array constructors differ from the main
 * context's. onnxruntime-node creates its output arrays in the main context and then checks them with
 * `instanceof Float32Array` in the test's context, which fails. Sharing the main context's
 * constructors makes both sides agree, as they do in production.
 */
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer', 'SharedArrayBuffer', 'DataView',
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class SharedTypedArrayEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) this.global[name] = globalThis[name];
  }
}

module.exports = SharedTypedArrayEnvironment;
