// CPU, memory and process count of a native service's whole process tree (its pid and every
// descendant), read from /proc for the dashboard. CPU % is of one core, like `ps` and `docker stats`
// per container: the tree's utime+stime delta over the wall-clock delta between two samples.
import { readFileSync } from 'node:fs';
import { allPids, clockTicksPerSecond, readProcStat, type ProcStat } from './procfs.js';

export interface ProcessTreeStats {
	/** null on the first sample of a tree (no delta yet) */
	cpuPercent: number | null;
	rssBytes: number;
	pids: number;
}

/** The root and all its descendants that are alive now. */
export function processTree(rootPid: number, table: Map<number, ProcStat[]> = childrenTable()): ProcStat[] {
	const root = readProcStat(rootPid);
	if (!root || root.state === 'Z') return [];
	const tree: ProcStat[] = [root];
	for (let i = 0; i < tree.length; i++) {
		for (const child of table.get(tree[i]!.pid) ?? []) if (child.state !== 'Z') tree.push(child);
	}
	return tree;
}

/** ppid → children, from one scan of /proc. */
export function childrenTable(): Map<number, ProcStat[]> {
	const table = new Map<number, ProcStat[]>();
	for (const pid of allPids()) {
		const stat = readProcStat(pid);
		if (!stat) continue;
		const siblings = table.get(stat.ppid);
		if (siblings) siblings.push(stat);
		else table.set(stat.ppid, [stat]);
	}
	return table;
}

export function rssBytes(pid: number): number {
	try {
		const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
		return match ? Number(match[1]) * 1024 : 0;
	} catch {
		return 0;
	}
}

/**
 * Keeps the previous CPU reading of each tree so that each `sample` returns the CPU % since the last one.
 * One /proc scan per call serves every service.
 */
export class ProcessTreeSampler {
	private previous = new Map<string, { rootPid: number; cpuTicks: number; atMs: number }>();

	constructor(private readonly nowMs: () => number = () => performance.now()) {}

	sample(roots: Record<string, number | undefined>): Record<string, ProcessTreeStats | null> {
		const table = childrenTable();
		const atMs = this.nowMs();
		const result: Record<string, ProcessTreeStats | null> = {};
		for (const [key, rootPid] of Object.entries(roots)) {
			const tree = rootPid === undefined ? [] : processTree(rootPid, table);
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
				rssBytes: tree.reduce((sum, proc) => sum + rssBytes(proc.pid), 0),
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
