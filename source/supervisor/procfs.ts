// Facts about host processes read from /proc (Linux). The start time of a process (field 22 of
// /proc/<pid>/stat, in clock ticks since boot) together with its pid identifies it: a pid can be
// reused by an unrelated process, a (pid, start time) pair cannot.
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcStat {
	pid: number;
	/** R, S, D, Z (zombie), T, … */
	state: string;
	ppid: number;
	pgrp: number;
	/** user + system CPU time, clock ticks */
	cpuTicks: number;
	/** clock ticks after boot */
	startTime: string;
	rssPages: number;
}

/** Linux USER_HZ: 100 on every architecture Node runs on. */
export const clockTicksPerSecond = 100;

export function readProcStat(pid: number): ProcStat | null {
	let text: string;
	try {
		text = readFileSync(`/proc/${pid}/stat`, 'latin1');
	} catch {
		return null;
	}
	// the command name (field 2) is in parentheses and may itself contain spaces and parentheses
	const close = text.lastIndexOf(')');
	const fields = text.slice(close + 2).split(' ');
	// fields[0] is field 3 (state)
	return {
		pid,
		state: fields[0] ?? '?',
		ppid: Number(fields[1]),
		pgrp: Number(fields[2]),
		cpuTicks: Number(fields[11]) + Number(fields[12]),
		startTime: fields[19] ?? '',
		rssPages: Number(fields[21]),
	};
}

export function processStartTime(pid: number): string | null {
	return readProcStat(pid)?.startTime ?? null;
}

/** True when `pid` is alive (not a zombie) and still the process that started at `startTime`. */
export function isSameProcess(pid: number, startTime: string | null | undefined): boolean {
	const stat = readProcStat(pid);
	if (!stat || stat.state === 'Z') return false;
	return startTime == null || stat.startTime === startTime;
}

export function processCmdline(pid: number): string[] {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '');
	} catch {
		return [];
	}
}

export function allPids(): number[] {
	const pids: number[] = [];
	for (const entry of readdirSync('/proc')) {
		const pid = Number(entry);
		if (Number.isInteger(pid) && pid > 0) pids.push(pid);
	}
	return pids;
}

/** Pids of the members of process group `pgid` (zombies included). */
export function processGroupMembers(pgid: number): ProcStat[] {
	const members: ProcStat[] = [];
	for (const pid of allPids()) {
		const stat = readProcStat(pid);
		if (stat && stat.pgrp === pgid) members.push(stat);
	}
	return members;
}

/** True when some live (non-zombie) process is in group `pgid`. */
export function processGroupAlive(pgid: number): boolean {
	try {
		process.kill(-pgid, 0);
	} catch {
		return false;
	}
	return processGroupMembers(pgid).some((member) => member.state !== 'Z');
}
