// CPU, memory and process count of a native service's whole process tree (its pid and every
// descendant), read from /proc for the dashboard. CPU % is of one core, like `ps` and `docker stats`
// per container: the tree's utime+stime delta over the wall-clock delta between two samples.
// The tree is found by walking down from its root through /proc/<pid>/task/<tid>/children (every
// thread: a Go service forks from any of them), not by reading /proc/<pid>/stat of every process on
// the host to build a parent table (≈1 % of a core on its own at one scan a second); RSS comes from
// the stat the walk already read.
import { readFileSync, readdirSync } from 'node:fs';
import { clockTicksPerSecond, readProcStat, type ProcStat } from './procfs.js';

export interface ProcessTreeStats {
	/** null on the first sample of a tree (no delta yet) */
	cpuPercent: number | null;
	rssBytes: number;
	pids: number;
}

const pageBytes = 4096;

function childPids(pid: number): number[] {
	let tasks: string[];
	try {
		tasks = readdirSync(`/proc/${pid}/task`);
	} catch {
		return [];
	}
	const children: number[] = [];
	for (const tid of tasks) {
		try {
			for (const child of readFileSync(`/proc/${pid}/task/${tid}/children`, 'latin1').split(' ')) if (child) children.push(Number(child));
		} catch {
			// the thread ended
		}
	}
	return children;
}

/** The root and its live descendants; empty when the root is gone. */
export function processTree(rootPid: number): ProcStat[] {
	const root = readProcStat(rootPid);
	if (!root || root.state === 'Z') return [];
	const tree = [root];
	const seen = new Set([rootPid]);
	for (let i = 0; i < tree.length && tree.length < 10_000; i++) {
		for (const pid of childPids(tree[i]!.pid)) {
			if (seen.has(pid)) continue;
			seen.add(pid);
			const stat = readProcStat(pid);
			if (stat && stat.state !== 'Z') tree.push(stat);
		}
	}
	return tree;
}

/** Keeps the previous CPU reading of each tree so that each `sample` returns the CPU % since the last one. */
export class ProcessTreeSampler {
	private previous = new Map<string, { rootPid: number; cpuTicks: number; atMs: number }>();

	constructor(private readonly nowMs: () => number = () => performance.now()) {}

	sample(roots: Record<string, number | undefined>): Record<string, ProcessTreeStats | null> {
		const result: Record<string, ProcessTreeStats | null> = {};
		for (const [key, rootPid] of Object.entries(roots)) {
			const tree = rootPid === undefined ? [] : processTree(rootPid);
			const atMs = this.nowMs();
			if (rootPid === undefined || tree.length === 0) {
				this.previous.delete(key);
				result[key] = null;
				continue;
			}
			const cpuTicks = tree.reduce((sum, proc) => sum + proc.cpuTicks, 0);
			const before = this.previous.get(key);
			this.previous.set(key, { rootPid, cpuTicks, atMs });
			result[key] = {
				cpuPercent: before && before.rootPid === rootPid ? cpuPercent(before.cpuTicks, cpuTicks, atMs - before.atMs) : null,
				rssBytes: tree.reduce((sum, proc) => sum + proc.rssPages * pageBytes, 0),
				pids: tree.length,
			};
		}
		for (const key of this.previous.keys()) if (!(key in roots)) this.previous.delete(key);
		return result;
	}
}

/** Percent of one core; a tree whose processes ended between samples can lose ticks, so never < 0. */
export function cpuPercent(ticksBefore: number, ticksAfter: number, wallMs: number): number {
	if (wallMs <= 0) return 0;
	const cpuMs = ((ticksAfter - ticksBefore) * 1000) / clockTicksPerSecond;
	return Math.max(0, (cpuMs / wallMs) * 100);
}
