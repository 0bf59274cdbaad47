// What several benches compute alike: medians, percentiles and a process's CPU ticks and RSS from /proc.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export const median = (xs: number[]): number => {
	if (xs.length === 0) return Number.NaN;
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The nearest-rank percentile: the smallest value with at least p % of the values at or below it; NaN for none. */
export const percentile = (xs: number[], p: number): number => {
	if (xs.length === 0) return Number.NaN;
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

/** utime + stime of `pid`, in clock ticks (throws when the process is gone). */
export function cpuTicks(pid: number): number {
	const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
	const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
	return Number(fields[11]) + Number(fields[12]);
}

/** The resident set of `pid` in MB (NaN when /proc does not say). */
export function rssMb(pid: number): number {
	const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
	return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** CPU % of one core of each group of pids (a group's ticks summed) over the same `seconds` (ticks are 1/100 s). */
export async function measureCpu(groups: number[][], seconds: number): Promise<number[]> {
	const sum = (pids: number[]) => pids.reduce((total, pid) => total + cpuTicks(pid), 0);
	const before = groups.map(sum);
	const started = performance.now();
	await sleep(seconds * 1000);
	const wall = (performance.now() - started) / 1000;
	return groups.map((pids, i) => (sum(pids) - before[i]!) / wall);
}
