// CPU, memory and process count of a native service's whole process tree (its pid and every
// descendant), from the host's process facts (platform/ProcessFacts.ts) for the dashboard. CPU % is of
// one core, like `ps` and `docker stats` per container: the tree's CPU time delta over the wall-clock
// delta between two samples.
import { processFacts } from '../platform/ProcessFacts.js';

export interface ProcessTreeStats {
	/** null on the first sample of a tree (no delta yet) */
	cpuPercent: number | null;
	rssBytes: number;
	pids: number;
}

/** Keeps the previous CPU reading of each tree so that each `sample` returns the CPU % since the last one. */
export class ProcessTreeSampler {
	private previous = new Map<string, { rootPid: number; cpuMs: number; atMs: number }>();

	constructor(private readonly nowMs: () => number = () => performance.now()) {}

	sample(roots: Record<string, number | undefined>): Record<string, ProcessTreeStats | null> {
		const result: Record<string, ProcessTreeStats | null> = {};
		for (const [key, rootPid] of Object.entries(roots)) {
			const tree = rootPid === undefined ? [] : processFacts().tree(rootPid);
			const atMs = this.nowMs();
			if (rootPid === undefined || tree.length === 0) {
				this.previous.delete(key);
				result[key] = null;
				continue;
			}
			const cpuMs = tree.reduce((sum, proc) => sum + proc.cpuMs, 0);
			const before = this.previous.get(key);
			this.previous.set(key, { rootPid, cpuMs, atMs });
			result[key] = {
				cpuPercent: before && before.rootPid === rootPid ? cpuPercent(before.cpuMs, cpuMs, atMs - before.atMs) : null,
				rssBytes: tree.reduce((sum, proc) => sum + proc.rssBytes, 0),
				pids: tree.length,
			};
		}
		for (const key of this.previous.keys()) if (!(key in roots)) this.previous.delete(key);
		return result;
	}
}

/** Percent of one core; a tree whose processes ended between samples can lose ticks, so never < 0. */
export function cpuPercent(cpuMsBefore: number, cpuMsAfter: number, wallMs: number): number {
	if (wallMs <= 0) return 0;
	return Math.max(0, ((cpuMsAfter - cpuMsBefore) / wallMs) * 100);
}
