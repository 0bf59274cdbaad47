// Preloaded into a dashboard by bench/dashboardMemory.ts (NODE_OPTIONS=--import, which survives the
// dashboard's re-exec with its V8 flags): on SIGUSR2 it writes what V8 says of its memory to
// $STIGMER_MEMORY_PROBE (JSON): process.memoryUsage(), every heap space's committed and physical size,
// the code statistics, and the byte length of each WebAssembly memory instantiated (Yoga's); with
// STIGMER_MEMORY_PROBE_SNAPSHOT=FILE, a heap snapshot as well.
// Nothing of this is in the product.
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const file = process.env.STIGMER_MEMORY_PROBE;
const memories = [];
const keep = (result) => {
	const instance = result instanceof WebAssembly.Instance ? result : result?.instance;
	for (const value of Object.values(instance?.exports ?? {})) if (value instanceof WebAssembly.Memory) memories.push(value);
	return result;
};
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (...args) => instantiate(...args).then(keep);
const instantiateStreaming = WebAssembly.instantiateStreaming;
if (instantiateStreaming) WebAssembly.instantiateStreaming = (...args) => instantiateStreaming(...args).then(keep);

if (file) {
	process.on('SIGUSR2', () => {
		const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size, physical: s.physical_space_size }]));
		writeFileSync(
			file,
			JSON.stringify({
				memoryUsage: process.memoryUsage(),
				heap: v8.getHeapStatistics(),
				spaces,
				code: v8.getHeapCodeStatistics(),
				wasmMemoryBytes: memories.map((m) => m.buffer.byteLength),
			}),
		);
		// STIGMER_MEMORY_PROBE_SNAPSHOT=FILE: a heap snapshot too, after the figures (it grows the heap)
		if (process.env.STIGMER_MEMORY_PROBE_SNAPSHOT) v8.writeHeapSnapshot(process.env.STIGMER_MEMORY_PROBE_SNAPSHOT);
	});
}
