// Keeps V8's young generation at a fixed size once it has reached `maxBytes`.
//
// Why: V8 doubles the young generation (up to 2 × 64 MB without pointer compression) every time the
// bytes that survive scavenges add up to its current size, and only shrinks it again when allocation
// almost stops. Under a log flood the dashboard allocates ~40–60 MB/s (Ink rebuilds the whole screen as
// per-cell objects on every frame) and keeps every line for a few seconds in the rings, so the young
// generation grew 16 → 32 → 64 → 128 MB and RSS with it (137 → 240 MB in 30 s) while the live heap
// stayed at ~30 MB: lazy collection, not retention. The size is fixed at start-up by V8 (the
// --max-semi-space-size flag is only read then), but the growth factor is read at each growth, so
// setting it to 1 once the young generation is big enough stops it there.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

const newSpaceSize = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/** Watches GCs until the young generation reaches `maxBytes`, then stops its growth; returns a stop function. */
export function capYoungGeneration(maxBytes = 16 * 1024 * 1024): () => void {
	let observer: PerformanceObserver | null = null;
	const check = (): boolean => {
		if (newSpaceSize() < maxBytes) return false;
		setFlagsFromString('--semi-space-growth-factor=1');
		observer?.disconnect();
		observer = null;
		return true;
	};
	if (check()) return () => {};
	observer = new PerformanceObserver(() => check());
	observer.observe({ entryTypes: ['gc'] });
	return () => {
		observer?.disconnect();
		observer = null;
	};
}
