// What several benches compute alike: medians, percentiles and a process's CPU ticks and RSS from /proc.
import { readdirSync, readFileSync } from 'node:fs';
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

/**
 * Voluntary context switches of every thread of `pid` (the main thread, V8's and libuv's workers):
 * each is a sleep the thread was woken from, the kernel's count of its wake-ups. Threads that ended
 * between two readings drop out, so compare readings a window apart with the same threads.
 */
export function wakeups(pid: number): { all: number; main: number } {
	let all = 0;
	let main = 0;
	for (const tid of readdirSync(`/proc/${pid}/task`)) {
		let text: string;
		try {
			text = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
		} catch {
			continue; // the thread ended
		}
		const switches = Number(/^voluntary_ctxt_switches:\s+(\d+)$/m.exec(text)?.[1] ?? 0);
		all += switches;
		if (Number(tid) === pid) main = switches;
	}
	return { all, main };
}
