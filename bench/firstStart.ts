// First `server start` on a machine without the agent-runner image (issue 22), in the same run:
//   pull: the image in a registry on 127.0.0.1 (Debian's docker-registry), `server start` with
//         agentRunner.image pinned by digest: pull, container, ready;
//   build: `docker build --no-cache --target runtime` of the same context, i.e. apt-get from Debian's
//         mirror (the image alone, without the container's start: the ratio is kept conservative).
// Each round builds a fresh image with --no-cache (layers of its own), pushes it, removes every local
// copy of those layers, then starts from the registry. The base image (debian:trixie-slim) stays present
// in both, as on a machine that has it; goal: pull ≤ 10 s and ≤ 0.25 × the build.
// Run: npm run build && node --import tsx bench/firstStart.ts [rounds]   (apt-get install docker-registry)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { imageRepository } from '../source/contract.js';
import { freePort } from '../test/helpers/cli.js';
import { startRegistry } from '../test/helpers/registry.js';
import { packageVersion } from '../source/version.js';
import { median } from './benchStats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Number(process.argv[2] ?? 3);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-first-'));
const home = path.join(tmp, 'home');
mkdirSync(home);

function timed(program: string, args: string[], cwd = root): { ms: number; stdout: string } {
	const t = performance.now();
	const r = spawnSync(program, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
	const ms = performance.now() - t;
	if (r.status !== 0) throw new Error(`${program} ${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-2000)}`);
	return { ms, stdout: r.stdout };
}
const docker = (...args: string[]) => execFileSync('docker', args, { encoding: 'utf8' }).trim();
const stigmer = (...args: string[]) => timed(process.execPath, [path.join(root, 'dist', 'cli.js'), '--home', home, ...args]);

const registry = await startRegistry(path.join(tmp, 'registry'));
const builds: number[] = [];
const pulls: number[] = [];
try {
	const port = await freePort();
	for (let round = 0; round < rounds; round++) {
		const local = `${imageRepository}-bench-first:${round}-${process.pid}`;
		builds.push(timed('docker', ['build', '--no-cache', '-q', '--target', 'runtime', '-f', 'docker/Dockerfile', '--build-arg', `STIGMER_VERSION=${packageVersion}`, '-t', local, '.']).ms);
		const remote = `${registry.address}/${imageRepository}-bench-first:${round}`;
		docker('tag', local, remote);
		const digest = /digest: (sha256:[0-9a-f]{64})/.exec(docker('push', remote))![1]!;
		docker('rmi', local, remote); // its layers were its own (--no-cache): gone from the engine
		const ref = `${registry.address}/${imageRepository}-bench-first@${digest}`;
		writeFileSync(path.join(home, 'config.yaml'), `agentRunner:\n  port: ${port}\n  image: ${ref}\nservices: {}\n`);
		pulls.push(stigmer('server', 'start').ms);
		stigmer('server', 'stop');
		docker('rmi', ref);
	}
	const fmt = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
	console.log(`first server start, median of ${rounds} (Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`);
	console.log(`pull from 127.0.0.1 registry + start + ready  ${fmt(median(pulls))}   goal ≤ 10 s   (${pulls.map(fmt).join(', ')})`);
	console.log(`build from Debian's mirror (no cache)         ${fmt(median(builds))}   (${builds.map(fmt).join(', ')})`);
	console.log(`ratio pull / build                            ${(median(pulls) / median(builds)).toFixed(2)}   goal ≤ 0.25`);
} finally {
	spawnSync(process.execPath, [path.join(root, 'dist', 'cli.js'), '--home', home, 'server', 'stop'], { stdio: 'ignore' });
	await registry.stop();
	rmSync(tmp, { recursive: true, force: true });
}
