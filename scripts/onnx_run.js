// Runs ONNX models in onnxruntime (onnxruntime-node from .deps/node, see install-deps.sh) on raw
// little-endian inputs and writes each output as raw f32:
//   node scripts/onnx_run.js model.onnx OUT_PREFIX [DTYPE:]DIMS:FILE...
//   node scripts/onnx_run.js --jobs JOBFILE     (one "model.onnx OUT_PREFIX SPEC..." per line)
// DIMS is like 2x1x28x28; DTYPE is f32 (the default) or i64 (int64 indices, for Embedding).
// Output i of a run goes to OUT_PREFIX<i>.bin (converted to f32) and its dims are printed, one
// line per output. With --jobs, node and onnxruntime start once for many models (their start-up
// dominates small models): each job prints "job <n> ok <dims>..." or "job <n> error <message>"
// and a failing job does not stop the others.
const path = require('path');
const fs = require('fs');
const ort = require(process.env.CT_ONNXRUNTIME_NODE ||
                    path.join(__dirname, '..', '.deps', 'node', 'node_modules', 'onnxruntime-node'));

function readInput(spec) {
  const parts = spec.split(':');
  const [dtype, dims, file] = parts.length === 3 ? parts : ['f32', ...parts];
  const shape = dims.split('x').map(Number);
  const buf = fs.readFileSync(file);
  if (dtype === 'f32') return new ort.Tensor('float32', new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)), shape);
  if (dtype === 'i64') return new ort.Tensor('int64', new BigInt64Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)), shape);
  throw new Error(`input '${spec}': dtype '${dtype}' is not f32 or i64`);
}

async function run(model, prefix, specs) {
  const session = await ort.InferenceSession.create(model);
  if (specs.length !== session.inputNames.length)
    throw new Error(`${model} takes ${session.inputNames.length} inputs, got ${specs.length}`);
  const feeds = {};
  specs.forEach((spec, i) => { feeds[session.inputNames[i]] = readInput(spec); });
  const out = await session.run(feeds);
  return session.outputNames.map((name, i) => {
    const t = out[name];
    fs.writeFileSync(prefix + i + '.bin', Buffer.from(Float32Array.from(t.data, Number).buffer));
    return t.dims.join('x');
  });
}

(async () => {
  const args = process.argv.slice(2);
  if (args[0] !== '--jobs') {
    (await run(args[0], args[1], args.slice(2))).forEach((d) => console.log(d));
    return;
  }
  const lines = fs.readFileSync(args[1], 'utf8').split('\n').filter((l) => l.trim());
  for (let n = 0; n < lines.length; n++) {
    const [model, prefix, ...specs] = lines[n].trim().split(/\s+/);
    try {
      console.log(`job ${n} ok ${(await run(model, prefix, specs)).join(' ')}`);
    } catch (e) {
      console.log(`job ${n} error ${String(e.message).replace(/\s+/g, ' ')}`);
    }
  }
})().catch((e) => { console.error('onnx_run: ' + e.message); process.exit(1); });
