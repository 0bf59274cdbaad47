// Tiny wrappers over the `docker` CLI for tests and benchmarks that need a real engine.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { containerEnv, containerSecurity, homeHash, labels, serviceUser } from '../../source/contract.js';

export type DockerResult = { stdout: string; stderr: string; code: number };

/** Runs `docker ARGS…`; rejects on a non-zero exit unless `allowFailure`. */
export function docker(args: string[], options: { allowFailure?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<DockerResult> {
	return new Promise((resolve, reject) => {
		execFile('docker', args, { maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000, env: options.env ?? process.env }, (error, stdout, stderr) => {
			const code = error ? (typeof (error as any).code === 'number' ? (error as any).code : 1) : 0;
			if (error && !options.allowFailure) {
				reject(new Error(`docker ${args.join(' ')} failed (${code}): ${stderr.trim() || error.message}`));
				return;
			}
			resolve({ stdout, stderr, code });
		});
	});
}

/** `docker build`, streaming its output to stderr when `verbose`; resolves with the full output. */
export function dockerBuild(args: string[], options: { verbose?: boolean; timeoutMs?: number } = {}): Promise<string> {
	return new Promise((resolve, reject) => {
		const child = spawn('docker', ['build', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
		let output = '';
		const onData = (chunk: Buffer) => {
			output += chunk.toString();
			if (options.verbose) process.stderr.write(chunk);
		};
		child.stdout.on('data', onData);
		child.stderr.on('data', onData);
		const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
		child.on('close', (code) => {
			clearTimeout(timer);
			if (code === 0) resolve(output);
			else reject(new Error(`docker build ${args.join(' ')} failed (${code}):\n${output.slice(-4000)}`));
		});
	});
}

export const uniqueName = (prefix = 'stigmer-test') => `${prefix}-${randomBytes(4).toString('hex')}`;

/** `docker run -d ARGS…`; resolves with the container id. */
export async function dockerRunDetached(args: string[]): Promise<string> {
	return (await docker(['run', '-d', ...args])).stdout.trim();
}

export async function dockerInspect<T = any>(nameOrId: string, kind: 'container' | 'image' | 'network' | 'volume' = 'container'): Promise<T | null> {
	const result = await docker([kind, 'inspect', nameOrId], { allowFailure: true });
	if (result.code !== 0) return null;
	return (JSON.parse(result.stdout) as T[])[0] ?? null;
}

/**
 * A network's IPv4 subnet and gateway. Docker 20.10 leaves the gateway out of the default bridge's IPAM
 * config when docker0 already existed as the daemon started (seen on a fresh CI machine, where the
 * package's own start made it first); the engine then gives the bridge the subnet's first address, as it
 * does for a network it creates, so that is the gateway.
 */
export async function networkGateway(name: string): Promise<{ subnet: string; gateway: string } | null> {
	const network = await dockerInspect<{ IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> } }>(name, 'network');
	const config = network?.IPAM?.Config?.find((c) => c.Subnet && !c.Subnet.includes(':'));
	if (!config?.Subnet) return null;
	if (config.Gateway) return { subnet: config.Subnet, gateway: config.Gateway };
	const [base] = config.Subnet.split('/');
	const octets = base!.split('.').map(Number);
	octets[3] = octets[3]! + 1;
	return { subnet: config.Subnet, gateway: octets.join('.') };
}

export const dockerKill = (name: string) => docker(['kill', name], { allowFailure: true });
export const dockerStart = (name: string) => docker(['start', name]);
export const dockerStop = (name: string, seconds = 10) => docker(['stop', '-t', String(seconds), name], { allowFailure: true, timeoutMs: (seconds + 20) * 1000 });
export const dockerLogs = async (name: string) => {
	const result = await docker(['logs', name], { allowFailure: true });
	return result.stdout + result.stderr;
};

/** Removes every container carrying `label` (key=value), running or not. */
export async function removeContainersByLabel(label: string): Promise<void> {
	const ids = (await docker(['ps', '-aq', '--filter', `label=${label}`], { allowFailure: true })).stdout
		.split('\n')
		.map((line) => line.trim())
		.filter(Boolean);
	if (ids.length > 0) await docker(['rm', '-f', '-v', ...ids], { allowFailure: true });
}

/** Polls `url` until it answers `status` (default 200) or `timeoutMs` passes. */
export async function waitForHttp(url: string, options: { status?: number; timeoutMs?: number; intervalMs?: number } = {}): Promise<number> {
	const started = performance.now();
	const deadline = started + (options.timeoutMs ?? 30_000);
	let last = '';
	while (performance.now() < deadline) {
		try {
			const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
			await response.arrayBuffer();
			if (response.status === (options.status ?? 200)) return performance.now() - started;
			last = `status ${response.status}`;
		} catch (error) {
			last = (error as Error).message;
		}
		await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
	}
	throw new Error(`${url} not answering ${options.status ?? 200} after ${options.timeoutMs ?? 30_000} ms (${last})`);
}

/**
 * `docker run` flags that start the agent-runner image as stigmer does: root with the sandbox launcher's
 * capabilities only, and the service user it drops to (contract.ts owns both).
 */
export function runnerUserFlags(): string[] {
	const service = serviceUser();
	return [
		...containerSecurity.capAdd.flatMap((cap) => ['--cap-add', cap]),
		'--user',
		containerSecurity.user,
		'-e',
		`${containerEnv.serviceUid}=${service.uid}`,
		'-e',
		`${containerEnv.serviceGid}=${service.gid}`,
	];
}

/** Removes every container of the stigmer home `dir` (by its home label), whatever state it is in. */
export async function removeHomeContainers(dir: string): Promise<void> {
	const ids = (await docker(['ps', '-aq', '--filter', `label=${labels.home}=${homeHash(dir)}`], { allowFailure: true })).stdout.trim();
	if (ids) await docker(['rm', '-f', ...ids.split('\n')], { allowFailure: true });
}
