// A real registry on 127.0.0.1 for tests and benches: Debian's docker-registry (the reference registry
// server, apt-get install docker-registry), storage in `dir`, optionally behind htpasswd (apache2-utils).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './cli.ts';

export interface LocalRegistry {
	/** host:port, as in an image reference */
	address: string;
	child: ChildProcess;
	stop(): Promise<void>;
}

export async function startRegistry(dir: string, htpasswd?: string): Promise<LocalRegistry> {
	const port = await freePort();
	mkdirSync(dir, { recursive: true });
	const config = path.join(dir, 'config.yml');
	const auth = htpasswd ? `auth:\n  htpasswd:\n    realm: stigmer-test\n    path: ${htpasswd}\n` : '';
	writeFileSync(config, `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`);
	const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
	let stderr = '';
	child.stderr!.on('data', (c) => (stderr += c));
	const deadline = Date.now() + 30_000;
	for (;;) {
		const status = await fetch(`http://127.0.0.1:${port}/v2/`).then(
			(r) => r.status,
			() => 0,
		);
		if (status === 200 || status === 401) break;
		if (Date.now() > deadline || child.exitCode !== null) {
			child.kill('SIGKILL');
			throw new Error(`docker-registry on 127.0.0.1:${port} did not answer (apt-get install docker-registry): ${stderr}`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	const stop = async () => {
		if (child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise((resolve) => child.once('exit', resolve));
		child.kill('SIGTERM');
		await exited;
	};
	return { address: `127.0.0.1:${port}`, child, stop };
}
