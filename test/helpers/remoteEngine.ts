// What the tests need when scripts/test-remote.sh runs them against the remote test host
// (scripts/engines/remote.sh) over ssh:// or tcp+TLS: nothing here changes a run on a local engine.
// - STIGMER_TEST_REMOTE_ENDPOINT names the endpoint kind (ssh or tls); the few checks that differ on a
//   remote engine (no published port, the LLM's address as the container sees it) ask `remoteEngine`.
// - A server on this machine's 127.0.0.1 (the fake LLM) is reached by the remote's containers as the
//   user's would be: `ssh -R` opens the same port on the remote host (sshd's GatewayPorts
//   clientspecified), where the container's host.docker.internal (the bridge's gateway) finds it, so
//   `llm.baseUrl: http://127.0.0.1:PORT/v1` works unchanged (stigmer maps loopback to host.docker.internal).
// - Files of the home's workspace are read in the container when the workspace is a volume there.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { containerPaths, imageUser } from '../../source/contract.js';
import { docker } from './docker.js';

/** 'ssh' or 'tls' when the tests run against the remote test host; null on a local engine. */
export const remoteEngine = process.env.STIGMER_TEST_REMOTE_ENDPOINT || null;
/** the ssh host of the remote test host (for the LLM's remote forward) */
const remoteSshHost = process.env.STIGMER_TEST_REMOTE_SSH_HOST || null;

/**
 * On a remote test run, makes this machine's 127.0.0.1:`port` answer on the remote host's `port` (all its
 * addresses, which its containers reach as host.docker.internal); resolves with a function that ends it.
 * On a local engine: nothing to do.
 */
export async function forwardToRemoteHost(port: number): Promise<() => void> {
	if (!remoteSshHost) return () => undefined;
	// the session prints "ready" once sshd runs it, after the forward request sent before it was granted;
	// it lives as long as our pipe to it
	const child: ChildProcess = spawn(
		'ssh',
		['-o', 'BatchMode=yes', '-o', 'ExitOnForwardFailure=yes', '-o', 'ControlPath=none', '-R', `0.0.0.0:${port}:127.0.0.1:${port}`, remoteSshHost, 'echo ready; exec cat >/dev/null'],
		{ stdio: ['pipe', 'pipe', 'pipe'] },
	);
	const end = () => {
		child.stdin?.destroy();
		child.kill('SIGTERM');
	};
	process.once('exit', end);
	await new Promise<void>((resolve, reject) => {
		let stderr = '';
		const timer = setTimeout(() => {
			end();
			reject(new Error(`ssh -R ${port} to ${remoteSshHost}: no answer within 30 s (${stderr.trim()})`));
		}, 30_000);
		child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
		child.stdout!.on('data', (c: Buffer) => {
			if (c.toString().includes('ready')) {
				clearTimeout(timer);
				resolve();
			}
		});
		child.once('exit', (code) => {
			clearTimeout(timer);
			reject(new Error(`ssh -R ${port} to ${remoteSshHost} ended (${code}): ${stderr.trim()}`));
		});
	});
	return () => {
		process.off('exit', end);
		end();
	};
}

/** A file of the home's workspace (`workspaceDir` on this machine), read where it lives: here, or in the container's volume. */
export async function readWorkspaceFile(workspaceDir: string, container: string, relative: string): Promise<string> {
	if (!remoteEngine) return readFileSync(path.join(workspaceDir, relative), 'utf8');
	const result = await docker(['exec', '-u', `${imageUser.uid}:${imageUser.gid}`, container, 'cat', path.posix.join(containerPaths.workspace, relative)]);
	return result.stdout;
}

/** Removes the volumes labelled with a home (a remote engine's workspace, data and secrets volumes). */
export async function removeHomeVolumes(homeHash: string): Promise<void> {
	const names = (await docker(['volume', 'ls', '-q', '--filter', `label=ai.stigmer.home=${homeHash}`], { allowFailure: true })).stdout.split('\n').filter(Boolean);
	if (names.length > 0) await docker(['volume', 'rm', '-f', ...names], { allowFailure: true });
}
