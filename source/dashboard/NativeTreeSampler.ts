// CPU, RSS and process count of each native service's process tree, for the dashboard's once-a-second
// sample. Same figures as the supervisor's ProcessTreeSampler, found a cheaper way: instead of reading
// /proc/<pid>/stat of EVERY process on the host to build a parent table (≈1 % of a core on its own at
// one scan a second), it walks down from each root through /proc/<pid>/task/<tid>/children (every
// thread: a Go service forks from any of them) and takes RSS from the stat it already read.
// TODO(supervisor owner): fold this walk into supervisor/processStats.ts and drop this file.
import { readFileSync, readdirSync } from 'node:fs';
import { type ProcStat, readProcStat } from '../supervisor/procfs.js';
import { type ProcessTreeStats, cpuPercent } from '../supervisor/processStats.js';

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
export function walkProcessTree(rootPid: number): ProcStat[] {
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

export class NativeTreeSampler {
	private previous = new Map<string, { rootPid: number; cpuTicks: number; atMs: number }>();

	constructor(private readonly nowMs: () => number = () => performance.now()) {}

	sample(roots: Record<string, number | undefined>): Record<string, ProcessTreeStats | null> {
		const result: Record<string, ProcessTreeStats | null> = {};
		for (const [key, rootPid] of Object.entries(roots)) {
			const tree = rootPid === undefined ? [] : walkProcessTree(rootPid);
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
