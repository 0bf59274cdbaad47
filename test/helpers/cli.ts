// Runs the stigmer CLI as a real child process: the built dist/cli.js when it is there (as npm test
// builds it first), else the sources through tsx.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeHomeVolumes } from './remoteEngine.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dist = path.join(repoRoot, 'dist', 'cli.js');

export function cliCommand(): string[] {
	if (existsSync(dist) && !process.env.STIGMER_TEST_FROM_SOURCES) return [process.execPath, dist];
	return [process.execPath, '--import', 'tsx', path.join(repoRoot, 'source', 'cli.ts')];
}

export interface CliResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	ms: number;
}

export interface CliOptions {
	env?: NodeJS.ProcessEnv;
	timeoutMs?: number;
	input?: string;
}

export function spawnCli(args: string[], options: CliOptions = {}): ChildProcess {
	const [program, ...prefix] = cliCommand();
	return spawn(program!, [...prefix, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1', ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
}

export function runCli(args: string[], options: CliOptions = {}): Promise<CliResult> {
	const started = Date.now();
	const child = spawnCli(args, options);
	return collect(child, options.timeoutMs ?? 180_000, started, options.input);
}

export function collect(child: ChildProcess, timeoutMs: number, started = Date.now(), input?: string): Promise<CliResult> {
	let stdout = '';
	let stderr = '';
	child.stdout!.on('data', (c) => (stdout += c));
	child.stderr!.on('data', (c) => (stderr += c));
	if (input !== undefined) child.stdin!.end(input);
	else child.stdin!.end();
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			child.kill('SIGKILL');
			reject(new Error(`stigmer ${child.spawnargs.slice(2).join(' ')} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
		}, timeoutMs);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
		});
	});
}

/** A free loopback port (bound and released; good enough for tests that start soon after). */
export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = net.createServer();
		server.listen(0, '127.0.0.1', () => {
			const port = (server.address() as net.AddressInfo).port;
			server.close(() => resolve(port));
		});
		server.on('error', reject);
	});
}

export interface TestHome {
	dir: string;
	port: number;
	/** runs the CLI with --home */
	cli(args: string[], options?: CliOptions): Promise<CliResult>;
	writeConfig(yaml: string): void;
	/** stops the stack and removes anything left of it in the engine */
	cleanup(): Promise<void>;
}

export async function makeTestHome(prefix = 'stigmer-test-'): Promise<TestHome> {
	const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
	const port = await freePort();
	const home: TestHome = {
		dir,
		port,
		cli: (args, options) => runCli(['--home', dir, ...args], options),
		writeConfig: (yaml) => writeFileSync(path.join(dir, 'config.yaml'), yaml),
		async cleanup() {
			await runCli(['--home', dir, 'server', 'stop', '--timeout', '3'], { timeoutMs: 60_000 }).catch(() => undefined);
			const { execFileSync } = await import('node:child_process');
			const { homeHash } = await import('../../source/contract.ts');
			const ids = execFileSync('docker', ['ps', '-aq', '--filter', `label=ai.stigmer.home=${homeHash(dir)}`], { encoding: 'utf8' }).trim();
			if (ids) execFileSync('docker', ['rm', '-f', ...ids.split('\n')], { stdio: 'ignore' });
			const networks = execFileSync('docker', ['network', 'ls', '-q', '--filter', `label=ai.stigmer.home=${homeHash(dir)}`], { encoding: 'utf8' }).trim();
			if (networks) execFileSync('docker', ['network', 'rm', ...networks.split('\n')], { stdio: 'ignore' });
			await removeHomeVolumes(homeHash(dir));
		},
	};
	home.writeConfig(`agentRunner:\n  port: ${port}\nservices: {}\n`);
	return home;
}

export const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', name);

/** A config.yaml with the agent-runner on `port` and the `services:` entries given (fixtureServiceYaml's lines). */
export function configWithServices(port: number, ...services: string[][]): string {
	return ['agentRunner:', `  port: ${port}`, 'services:', ...services.flat(), ''].join('\n');
}

/** A `services:` entry (YAML lines) that runs test/fixtures/`script` with this Node; `more` are further lines of the entry. */
export function fixtureServiceYaml(name: string, script: string, args: string[], more: string[] = []): string[] {
	return [`  ${name}:`, `    command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(fixture(script))}]`, `    args: ${JSON.stringify(args)}`, ...more.map((line) => `    ${line}`)];
}
