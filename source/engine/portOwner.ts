// Which local process listens on a TCP port: /proc/net/tcp{,6} gives the socket inode of a LISTEN
// entry, /proc/<pid>/fd links give its owner. Linux only; elsewhere (or without permission) null.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

export interface PortOwner {
	pid: number;
	command: string;
}

function listeningInodes(port: number): Set<string> {
	const inodes = new Set<string>();
	for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
		let text = '';
		try {
			text = readFileSync(file, 'utf8');
		} catch {
			continue;
		}
		for (const line of text.split('\n').slice(1)) {
			const cols = line.trim().split(/\s+/);
			if (cols.length < 10) continue;
			const localPort = Number.parseInt(cols[1]!.split(':')[1] ?? '', 16);
			if (localPort === port && cols[3] === '0A') inodes.add(cols[9]!);
		}
	}
	return inodes;
}

export function portOwner(port: number): PortOwner | null {
	const inodes = listeningInodes(port);
	if (inodes.size === 0) return null;
	let pids: string[] = [];
	try {
		pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
	} catch {
		return null;
	}
	for (const pid of pids) {
		let fds: string[];
		try {
			fds = readdirSync(`/proc/${pid}/fd`);
		} catch {
			continue;
		}
		for (const fd of fds) {
			let target = '';
			try {
				target = readlinkSync(`/proc/${pid}/fd/${fd}`);
			} catch {
				continue;
			}
			const m = /^socket:\[(\d+)\]$/.exec(target);
			if (m && inodes.has(m[1]!)) {
				let command = '';
				try {
					command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
				} catch {
					// gone
				}
				return { pid: Number(pid), command };
			}
		}
	}
	return null;
}
