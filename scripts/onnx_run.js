// Runs an ONNX model in onnxruntime (onnxruntime-node from .deps/node, see install-deps.sh) on
// raw little-endian f32 inputs and writes each output as raw f32:
//   node scripts/onnx_run.js model.onnx OUT_PREFIX DIMS:FILE...   (DIMS like 2x1x28x28)
// Output i goes to OUT_PREFIX<i>.bin; its dims are printed one line per output.
const path = require('path');
const fs = require('fs');
const ort = require(process.env.CT_ONNXRUNTIME_NODE ||
                    path.join(__dirname, '..', '.deps', 'node', 'node_modules', 'onnxruntime-node'));
(async () => {
  const [model, prefix, ...specs] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model);
  const feeds = {};
  specs.forEach((spec, i) => {
    const [dims, file] = spec.split(':');
    const buf = fs.readFileSync(file);
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    feeds[session.inputNames[i]] = new ort.Tensor('float32', Float32Array.from(data), dims.split('x').map(Number));
  });
  const out = await session.run(feeds);
  session.outputNames.forEach((name, i) => {
    const t = out[name];
    fs.writeFileSync(prefix + i + '.bin', Buffer.from(new Float32Array(t.data).buffer));
    console.log(t.dims.join('x'));
  });
})().catch((e) => { console.error('onnx_run: ' + e.message); process.exit(1); });
