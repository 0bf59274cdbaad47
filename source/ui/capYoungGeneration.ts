// Keeps V8's young generation from growing past `maxBytes`. The dashboard normally runs with
// --max-semi-space-size (see commands/dashboard), which does this from start-up; this is what holds the
// line where it could not re-execute itself with that flag (no process.execve).
//
// Why: V8 doubles the young generation (up to 2 × 64 MB without pointer compression) every time the
// bytes that survive scavenges add up to its current size, and only shrinks it again when allocation
// almost stops. Under a log flood the dashboard allocates ~40–60 MB/s (Ink rebuilds the whole screen as
// per-cell objects on every frame) and keeps every line for a few seconds in the rings, so the young
// generation grew 16 → 32 → 64 → 128 MB and RSS with it (137 → 240 MB in 30 s) while the live heap
// stayed at ~30 MB: lazy collection, not retention. The size limit is fixed at start-up by V8 (the
// --max-semi-space-size flag is only read then), but the growth factor is read at each growth, so it is
// set to 1 while the young generation is at the cap and back to V8's default below it.
//
// Both directions matter: after a minute or two of idling V8 shrinks the young generation to 1 MB, and
// held there (a growth factor left at 1) a flood promotes nearly everything it allocates: old space then
// grew 20 → 96 MB and RSS 131 → 198 MB in 30 s.
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** V8's --semi-space-growth-factor default */
const defaultGrowthFactor = 2;

const newSpaceSize = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;

/** Watches GCs and holds the young generation at `maxBytes` at most; returns a stop function. */
export function capYoungGeneration(maxBytes = 16 * 1024 * 1024): () => void {
	let factor = defaultGrowthFactor;
	const check = () => {
		const wanted = newSpaceSize() >= maxBytes ? 1 : defaultGrowthFactor;
		if (wanted === factor) return;
		factor = wanted;
		setFlagsFromString(`--semi-space-growth-factor=${factor}`);
	};
	check();
	const observer = new PerformanceObserver(check);
	observer.observe({ entryTypes: ['gc'] });
	return () => {
		observer.disconnect();
		if (factor !== defaultGrowthFactor) setFlagsFromString(`--semi-space-growth-factor=${defaultGrowthFactor}`);
	};
}
