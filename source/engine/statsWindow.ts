// The window a stats frame's CPU figure covers. Docker sends a stream's first frame with empty
// precpu_stats (so the figure is the container's share since the host booted, as `docker stats
// --no-stream` shows it) and every later frame against the previous one, a second apart. Podman 4
// computes its first frame against a sample taken a few milliseconds earlier: over such a window,
// /proc/stat's 10 ms ticks make the system delta coarse and one burst of the container reads as
// 8–16 % of a core for an idle runner (its next frame comes 5 s later). A window that short is no
// measurement: the frame is then read as Docker's first frame is, without precpu_stats.
import type { StatsFrame } from './containerStats.js';

/** Shorter CPU windows than this are not used (Docker's and Podman's are 1 s and 5 s). */
export const minCpuWindowMs = 250;

/** The frame, without its precpu_stats when they were sampled less than `minCpuWindowMs` before it. */
export function withUsableCpuWindow<T extends StatsFrame>(frame: T): T {
	const read = frame.read ? Date.parse(frame.read) : Number.NaN;
	const preread = frame.preread ? Date.parse(frame.preread) : Number.NaN;
	// a zero time (0001-01-01) parses far in the past: that is "no previous sample", left as it is
	if (!Number.isFinite(read) || !Number.isFinite(preread) || preread <= 0) return frame;
	const windowMs = read - preread;
	if (windowMs >= minCpuWindowMs) return frame;
	const { precpu_stats: _short, ...rest } = frame;
	return rest as T;
}
