// The last lines a service printed, through the one log source (readLogs.ts): what a "did not become
// ready" or "exited while starting" report shows.
import type { DockerApi } from '../engine/DockerApi.js';
import { errorMessage } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { readLogs } from './readLogs.js';

/** The last lines a service printed (for "did not become ready" reports), through the one log source. */
export async function serviceLogTail(api: DockerApi | null, home: StigmerHome, service: string, lines: number): Promise<string> {
	const out: string[] = [];
	try {
		for await (const batch of readLogs({ api, home, services: [service], tail: lines })) for (const l of batch) out.push(l.line);
	} catch (error) {
		return `(logs unavailable: ${errorMessage(error)})`;
	}
	return out.join('\n');
}
