// The agent-runner's readiness after a start: running, the engine's health not unhealthy, and /readyz
// answering 200 (the probe of supervisor/readiness.ts); a container that died says so at once, with
// its last lines. Its health while the engine still says `starting` is healthFallback.ts.
import { existsSync } from 'node:fs';
import { agentRunnerService, exitCodes } from '../contract.js';
import type { DockerApi } from '../engine/DockerApi.js';
import { TimeoutError, UserError } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { serviceLogTail } from '../logs/logTail.js';
import { fileSystemOf, formatBytes } from '../platform/fileSystem.js';
import { probeHttp } from '../supervisor/readiness.js';
import { inspectContainer } from './ContainerService.js';

function checkAborted(signal?: AbortSignal): void {
	if (signal?.aborted) throw new UserError('interrupted', exitCodes.interrupted);
}

/** Ready = running, Docker health not unhealthy, and /readyz answering 200. Exit 4 on timeout. */
export async function waitContainerReady(api: DockerApi, home: StigmerHome, id: string, endpoint: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
	const deadline = Date.now() + timeoutSeconds * 1000;
	let lastInspect = 0;
	for (;;) {
		checkAborted(signal);
		if (await probeHttp(`${endpoint}/readyz`, 1000)) {
			const inspect = await inspectContainer(api, id);
			// a Ctrl-C or the deadline that came while the probe was out wins over its answer
			checkAborted(signal);
			if (inspect?.State.Running && inspect.State.Health?.Status !== 'unhealthy' && Date.now() <= deadline) return;
		}
		// A container that died will not become ready: say so now instead of at the deadline.
		if (Date.now() - lastInspect > 500) {
			lastInspect = Date.now();
			const inspect = await inspectContainer(api, id);
			if (!inspect) throw new UserError(`${agentRunnerService} container disappeared while starting`, 1, 'run `stigmer server start` again');
			if (!inspect.State.Running && !inspect.State.Restarting && inspect.State.Status !== 'created') {
				const logs = await serviceLogTail(api, home, agentRunnerService, 20);
				throw new UserError(
					`${agentRunnerService} exited with code ${inspect.State.ExitCode}${inspect.State.OOMKilled ? ' (killed: out of memory; raise agentRunner.memory)' : ''} while starting`,
					1,
					`its last lines:\n${logs || '(no output)'}${dataFullHint(home, logs)}`,
				);
			}
		}
		if (Date.now() > deadline) {
			const logs = await serviceLogTail(api, home, agentRunnerService, 20);
			throw new TimeoutError(`${agentRunnerService} did not become ready within ${timeoutSeconds} s (${endpoint}/readyz)`, `its last lines:\n${logs || '(no output)'}`);
		}
		await new Promise((r) => setTimeout(r, 50));
	}
}

/** The runner names its own /data when that is full: say where that is on this machine. */
function dataFullHint(home: StigmerHome, logs: string): string {
	if (!/no space left on the file system of \/data\b/.test(logs) || !existsSync(home.agentRunnerDataDir)) return '';
	const fs = fileSystemOf(home.agentRunnerDataDir);
	return `\n/data is ${home.agentRunnerDataDir} on this machine, on ${fs.mountPoint}${fs.freeBytes === null ? '' : ` (${formatBytes(fs.freeBytes)} free)`}: free space there, then \`stigmer server start\``;
}
