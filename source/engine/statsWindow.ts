// The window a stats frame's CPU figure covers, from the engine's own timestamps: `preread` (when
// precpu_stats were sampled) to `read` (when cpu_stats were). Both engines send them, to the nanosecond.
//
// Why the wall-clock window and not the docker CLI's system delta (docker/cli stats_helpers.go:
// cpu delta / system_cpu_usage delta × online CPUs): the engines disagree on what system_cpu_usage is.
// - Docker: the sum of /proc/stat's CPU times (idle included) in 10 ms ticks, i.e. wall time × CPUs.
//   Over a 1 s window the wall-clock figure and the CLI's agree within those ticks.
// - Podman 4.3: the ROOT cgroup's CPU usage (cpuacct.usage on cgroup v1, the sum of usage_usec on v2;
//   containers/common pkg/cgroups GetSystemCPUUsage), i.e. the CPU the whole host was BUSY. The CLI's
//   formula then gives the container's share of the host's busy time × CPUs: on a quiet host that is
//   ~18× the truth (an idle runner read 4.4–5.6 % while its cgroup said 0.28 %), on a loaded host less.
// - Docker's first frame of a stream has empty precpu_stats and a zero preread (0001-01-01); Podman's
//   first frame was sampled a few milliseconds after its precpu_stats. Neither is a measurement: no figure.
import type { StatsFrame } from './containerStats.js';

/** Shorter CPU windows than this are not used (Docker's and Podman's streams send frames 1 s and 5 s apart). */
export const minCpuWindowMs = 250;

/** An RFC 3339 time with up to 9 fraction digits as [whole seconds in ms, nanoseconds]; null when it is none. */
function parseTime(text: string | undefined): [number, number] | null {
	const match = text ? /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(.*)$/.exec(text) : null;
	if (!match) return null;
	const ms = Date.parse(`${match[1]}${match[3]}`);
	if (!Number.isFinite(ms) || ms <= 0) return null; // 0001-01-01: "no sample"
	return [ms, Number((match[2] ?? '').padEnd(9, '0'))];
}

/** The frame's CPU window in nanoseconds, or null when it has none worth a figure. */
export function cpuWindowNs(frame: StatsFrame): number | null {
	const read = parseTime(frame.read);
	const preread = parseTime(frame.preread);
	if (!read || !preread) return null;
	// whole seconds and fractions apart: nanoseconds since the epoch do not fit a double exactly
	const windowNs = (read[0] - preread[0]) * 1e6 + (read[1] - preread[1]);
	return windowNs >= minCpuWindowMs * 1e6 ? windowNs : null;
}
