// What several benches compute alike: medians, percentiles and a process's CPU ticks from /proc.
import { readFileSync } from 'node:fs';

export const median = (xs: number[]): number => {
	const s = [...xs].sort((a, b) => a - b);
	return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

/** utime + stime of `pid`, in clock ticks (throws when the process is gone). */
export function cpuTicks(pid: number): number {
	const text = readFileSync(`/proc/${pid}/stat`, 'latin1');
	const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
	return Number(fields[11]) + Number(fields[12]);
}
