// What leaving host networking costs at start and stop, on the real engine (image present), config
// `services: {}` with the default LLM URL (the host's 127.0.0.1:11434, so the forward is opened):
//   server start, all stopped → ready, and server stop, of this build
//   the same, alternating run by run, of a baseline build (--baseline DIST_CLI), e.g. one made from the
//   commit before (git archive COMMIT | tar -x -C DIR; ln -s $PWD/node_modules DIR; cd DIR; npx tsc -p .)
//   docker network create + rm alone
// and after each stop: no network, no forward listener, no supervisor left.
// Run: npm run build && node --import tsx bench/network.ts [runs] [--baseline /path/to/dist/cli.js]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { StigmerHome } from '../source/home/StigmerHome.js';
import { supervisorPid } from '../source/supervisor/SupervisorClient.js';
import { freePort } from '../test/helpers/cli.js';
import { median } from './benchStats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const at = args.indexOf('--baseline');
const baseline = at === -1 ? null : args.splice(at, 2)[1]!;
const runs = Number(args[0] ?? 7);

function time(program: string, argv: string[]): number {
	const t = performance.now();
	const r = spawnSync(program, argv, { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
	const ms = performance.now() - t;
	if (r.status !== 0) throw new Error(`${program} ${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
	return ms;
}
const fmt = (ms: number) => `${(ms / 1000).toFixed(3)} s`;
const listeners = () => execFileSync('ss', ['-ltnH'], { encoding: 'utf8' });

async function main(): Promise<void> {
	const builds: Array<{ name: string; cli: string; home: StigmerHome; start: number[]; stop: number[] }> = [];
	for (const [name, cli] of [['this build', path.join(root, 'dist', 'cli.js')], ...(baseline ? [['baseline', baseline]] : [])] as Array<[string, string]>) {
		const home = new StigmerHome(mkdtempSync(path.join(os.tmpdir(), 'stigmer-bench-net-')), false);
		writeFileSync(home.configFile, `agentRunner:\n  port: ${await freePort()}\nservices: {}\n`);
		time(process.execPath, [cli, '--home', home.dir, 'server', 'start']); // image check, first-time work
		time(process.execPath, [cli, '--home', home.dir, 'server', 'stop']);
		builds.push({ name, cli, home, start: [], stop: [] });
	}
	const leftovers: string[] = [];
	const llmPortTaken = /:11434\b/.test(listeners()); // a real Ollama, say
	for (let i = 0; i < runs; i++) {
		for (const b of builds) {
			b.start.push(time(process.execPath, [b.cli, '--home', b.home.dir, 'server', 'start']));
			b.stop.push(time(process.execPath, [b.cli, '--home', b.home.dir, 'server', 'stop']));
			const network = spawnSync('docker', ['network', 'inspect', b.home.networkName], { stdio: 'ignore' }).status === 0;
			if (network) leftovers.push(`${b.name}: network ${b.home.networkName}`);
			if (!llmPortTaken && /:11434\b/.test(listeners())) leftovers.push(`${b.name}: a listener on port 11434`);
			if (supervisorPid(b.home) !== null) leftovers.push(`${b.name}: the supervisor`);
		}
	}
	const network: number[] = [];
	for (let i = 0; i < runs; i++) {
		const name = `stigmer-bench-net-${process.pid}-${i}`;
		const t = performance.now();
		execFileSync('docker', ['network', 'create', '--label', 'ai.stigmer.bench=network', name], { stdio: 'ignore' });
		execFileSync('docker', ['network', 'rm', name], { stdio: 'ignore' });
		network.push(performance.now() - t);
	}
	console.log(`network figures, median of ${runs} runs, builds alternating (Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)})`);
	for (const b of builds) {
		console.log(`${`${b.name}: server start, stopped → ready`.padEnd(46)} ${fmt(median(b.start))}`);
		console.log(`${`${b.name}: server stop`.padEnd(46)} ${fmt(median(b.stop))}`);
	}
	console.log(`${'docker network create + rm'.padEnd(46)} ${fmt(median(network))}`);
	console.log(leftovers.length === 0 ? 'after every stop: no network, no listener on the LLM port, no supervisor' : `left behind:\n  ${leftovers.join('\n  ')}`);
	for (const b of builds) rmSync(b.home.dir, { recursive: true, force: true });
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
