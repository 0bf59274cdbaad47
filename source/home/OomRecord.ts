// What was seen of the OOM killer in the agent-runner container (agentRunner/oomEvents.ts), kept in the home
// (run/oom.json) so that status, the dashboard and the logs still say it after the restart policy started
// the container again and the engine forgot. Cleared when the user starts or restarts the service.
// Written atomically (temp + fsync + rename): a reader never sees half a file.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { StigmerHome } from './StigmerHome.js';

export interface OomRecord {
	/** the container the record is about (another container: the record is stale) */
	containerId: string;
	/** RFC 3339: when the OOM killer ended its main process (the container died and was restarted) */
	killedAt: string | null;
	/** processes inside it the OOM killer ended while it lived on */
	processKills: number;
	lastProcessKillAt: string | null;
	/** the engine's events up to this time (ns) are counted */
	seenUntilNano: number;
	/** where the container's cgroup is on this machine: its OOM counter at the last read, for the start it counts from */
	cgroup?: { startedAt: string; count: number };
}

export const oomRecordFile = (home: StigmerHome) => path.join(home.runDir, 'oom.json');

export function readOomRecord(home: StigmerHome): OomRecord | null {
	try {
		const record = JSON.parse(readFileSync(oomRecordFile(home), 'utf8')) as OomRecord;
		return typeof record.containerId === 'string' ? record : null;
	} catch {
		return null;
	}
}

export function writeOomRecord(home: StigmerHome, record: OomRecord): void {
	const file = oomRecordFile(home);
	const temporary = `${file}.${process.pid}.tmp`;
	const fd = openSync(temporary, 'w', 0o644);
	try {
		writeSync(fd, `${JSON.stringify(record)}\n`);
		fsyncSync(fd);
	} finally {
		closeSync(fd);
	}
	renameSync(temporary, file);
}

export function clearOomRecord(home: StigmerHome): void {
	rmSync(oomRecordFile(home), { force: true });
}

/** Whether the record says anything worth showing. */
export function oomSeen(record: OomRecord | null): boolean {
	return record !== null && (record.killedAt !== null || record.processKills > 0);
}
