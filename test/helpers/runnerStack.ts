// A throwaway stigmer home with a running agent-runner container, for the tests and benchmarks of
// `stigmer run`, `stigmer executions` and `stigmer shell`, plus a way to run the CLI against it.
//
// The container is started by the real lifecycle, `stigmer server start --home DIR`, and removed by
// `stigmer server stop`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StigmerHome } from '../../source/home/StigmerHome.js';
import { cliCommand, freePort, runCli } from './cli.js';
import { docker, dockerLogs, waitForHttp } from './docker.js';
import { removeHomeVolumes } from './remoteEngine.js';

export { freePort };

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const testRunLabel = 'ai.stigmer.test=run-executions-shell';

export interface CliResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

export interface RunnerStackOptions {
	/**
	 * base URL of the LLM as seen from the HOST, like `llm.baseUrl` in config.yaml: a fake LLM on the
	 * host's 127.0.0.1 is reached by the container through the supervisor's forward
	 */
	llmUrl: string;
	maxConcurrency?: number;
	/** start no container (a home whose runner is not running) */
	noContainer?: boolean;
	extraEnv?: Record<string, string>;
	/** an LLM API key, written to secrets/llm-api-key (0600) and configured as llm.apiKeyFile */
	llmApiKey?: string;
	/** agentRunner.image (default: the image of this checkout, built when missing) */
	image?: string;
	/** agentRunner.sandbox's keys and values (config.yaml), e.g. { diskBudget: '64m' } */
	sandbox?: Record<string, string>;
	/** config.yaml lines under `services:` (none by default) */
	services?: string[];
}

/**
 * Each test stack's own sandbox uids (STIGMER_SANDBOX_UID_BASE), never the default 61000 a user's stack
 * has: RLIMIT_NPROC counts processes per uid across the kernel (every engine on this machine and the
 * remote test host share it), so a fork bomb's uid shared with another stack's commands makes their exec
 * fail with EAGAIN. The range is fixed by the run (the engine, STIGMER_TEST_ENGINE, and root or not: the
 * engine matrix, the non-root part and the remote endpoints run side by side), the file (its place among
 * test/integration, test/e2e and bench, sorted) and the stack's order in that file (each file runs in a
 * process of its own): deterministic, and disjoint from every other stack's, whichever run beside it.
 * Layout: 100000 + 100000 × run + 256 × file + 16 × stack, 16 uids each (2 × maxConcurrency ≤ 16), above
 * any login user's uid and nobody's 65534, far below the launcher's ceiling (2^31 − 1024).
 */
const uidsPerStack = 16;
const uidsPerFile = 256;
const uidsPerRun = 100_000;
const testRuns = ['', 'docker', 'podman', 'podman5', 'docker26', 'docker28', 'remote-ssh', 'remote-tls'];
let stacksInThisFile = 0;

function runSlot(): number {
	const engine = process.env.STIGMER_TEST_ENGINE ?? '';
	let index = testRuns.indexOf(engine);
	if (index < 0) index = testRuns.length + ([...engine].reduce((sum, c) => sum + c.charCodeAt(0), 0) % 8);
	return 2 * index + (process.getuid?.() === 0 ? 0 : 1);
}

function fileSlot(): number {
	const file = path.resolve(process.argv[1] ?? '');
	const files = ['test/integration', 'test/e2e', 'bench'].flatMap((dir) =>
		readdirSync(path.join(repoRoot, dir))
			.filter((name) => name.endsWith('.ts'))
			.sort()
			.map((name) => path.join(repoRoot, dir, name)),
	);
	const index = files.indexOf(file);
	// a file elsewhere (a script of one's own) shares the last slot
	return index < 0 ? files.length : index;
}

/** The first sandbox uid of this process's next stack (see above). */
export function nextSandboxUidBase(maxConcurrency: number): number {
	const stack = stacksInThisFile++;
	if (2 * maxConcurrency > uidsPerStack)
		throw new Error(`RunnerStack: maxConcurrency ${maxConcurrency} needs ${2 * maxConcurrency} sandbox uids; each stack has ${uidsPerStack} (raise uidsPerStack in test/helpers/runnerStack.ts)`);
	if (stack >= uidsPerFile / uidsPerStack) throw new Error(`RunnerStack: more than ${uidsPerFile / uidsPerStack} stacks in one file; raise uidsPerFile in test/helpers/runnerStack.ts`);
	const slot = fileSlot();
	if ((slot + 1) * uidsPerFile > uidsPerRun) throw new Error(`RunnerStack: ${slot + 1} files with stacks exceed ${uidsPerRun / uidsPerFile}; raise uidsPerRun in test/helpers/runnerStack.ts`);
	return uidsPerRun * (1 + runSlot()) + uidsPerFile * slot + uidsPerStack * stack;
}

export class RunnerStack {
	readonly home: StigmerHome;
	readonly token = `test-${randomBytes(16).toString('hex')}`;
	/** this stack's first sandbox uid; its executions run as this + slot (2 × maxConcurrency of them) */
	readonly sandboxUidBase: number;
	private containerStarted = false;

	private constructor(
		readonly port: number,
		readonly options: RunnerStackOptions,
		sandboxUidBase: number,
	) {
		this.home = new StigmerHome(mkdtempSync(path.join(tmpdir(), 'stigmer-run-test-')), false);
		this.sandboxUidBase = sandboxUidBase;
	}

	static async start(options: RunnerStackOptions): Promise<RunnerStack> {
		// taken before any await, so stacks started together get their ranges in the order they were asked for
		const uidBase = Number(options.extraEnv?.STIGMER_SANDBOX_UID_BASE ?? nextSandboxUidBase(options.maxConcurrency ?? 4));
		const stack = new RunnerStack(await freePort(), options, uidBase);
		try {
			stack.writeHome();
			if (!options.noContainer) await stack.startContainer();
		} catch (error) {
			await stack.dispose();
			throw error;
		}
		return stack;
	}

	get baseUrl(): string {
		return `http://127.0.0.1:${this.port}`;
	}

	get containerName(): string {
		return this.home.containerName;
	}

	private writeHome(): void {
		const home = this.home;
		home.ensureLayout();
		writeFileSync(
			home.configFile,
			[
				'agentRunner:',
				`  port: ${this.port}`,
				...(this.options.image ? [`  image: ${this.options.image}`] : []),
				`  maxConcurrency: ${this.options.maxConcurrency ?? 4}`,
				...(this.options.sandbox ? ['  sandbox:', ...Object.entries(this.options.sandbox).map(([k, v]) => `    ${k}: ${v}`)] : []),
				'  env:',
				"    STIGMER_SHUTDOWN_GRACE_SECONDS: '1'",
				`    STIGMER_SANDBOX_UID_BASE: '${this.sandboxUidBase}'`,
				...Object.entries(this.options.extraEnv ?? {})
					.filter(([k]) => k !== 'STIGMER_SANDBOX_UID_BASE')
					.map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
				'  llm:',
				`    baseUrl: ${this.options.llmUrl}`,
				'    model: fake-model',
				...(this.options.llmApiKey ? ['    apiKeyFile: secrets/llm-api-key'] : []),
				...(this.options.services?.length ? ['services:', ...this.options.services] : ['services: {}']),
				'',
			].join('\n'),
		);
		writeFileSync(home.apiTokenFile, `${this.token}\n`, { mode: 0o600 });
		if (this.options.llmApiKey) writeFileSync(path.join(home.secretsDir, 'llm-api-key'), `${this.options.llmApiKey}\n`, { mode: 0o600 });
	}

	async startContainer(): Promise<void> {
		const result = await runCli(['--home', this.home.dir, 'server', 'start', '--timeout', '60'], { timeoutMs: 900_000 });
		this.containerStarted = true;
		if (result.code !== 0) throw new Error(`stigmer server start failed (${result.code}):\n${result.stderr}`);
	}

	async waitReady(timeoutMs = 30_000): Promise<void> {
		try {
			await waitForHttp(`${this.baseUrl}/readyz`, { timeoutMs });
		} catch (error) {
			throw new Error(`${(error as Error).message}\n--- container logs ---\n${await dockerLogs(this.containerName)}`);
		}
	}

	/** `docker restart`: the runner stops (running executions become interrupted) and comes back. */
	async restartContainer(stopSeconds = 2): Promise<void> {
		await docker(['restart', '-t', String(stopSeconds), this.containerName], { timeoutMs: 60_000 });
		await this.waitReady();
	}

	/** Peak resident memory of the runner's Python process (`VmHWM: N kB`), read in the container. */
	async runnerPeakRss(): Promise<string> {
		const script = 'for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = stigmer-service ] && grep VmHWM $d/status; done; true';
		const result = await docker(['exec', this.containerName, 'sh', '-c', script], { allowFailure: true });
		return result.stdout.trim().replace(/\s+/g, ' ') || `unknown (${result.stderr.trim() || 'the process is gone'})`;
	}

	/** The container runs, was never OOM-killed nor restarted, and its API answers /readyz. */
	async assertUnharmed(): Promise<void> {
		const [state] = JSON.parse((await docker(['inspect', this.containerName])).stdout) as Array<{ State: { Running: boolean; OOMKilled: boolean }; RestartCount: number }>;
		assert.equal(state!.State.Running, true);
		assert.equal(state!.State.OOMKilled, false);
		assert.equal(state!.RestartCount, 0);
		assert.equal((await fetch(`${this.baseUrl}/readyz`)).status, 200);
	}

	async logs(): Promise<string> {
		return dockerLogs(this.containerName);
	}

	/** Runs the CLI (dist/cli.js when built, else the sources through tsx) as a child process. */
	spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: 'ignore' | 'pipe' } = {}): ChildProcess {
		const [program, ...prefix] = cliCommand();
		return spawn(program!, [...prefix, '--home', this.home.dir, ...args], {
			cwd: repoRoot,
			env: { ...process.env, NO_COLOR: '1', ...options.env },
			stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
		});
	}

	/** Runs the CLI to its end, killed after `timeoutMs` (the result then has signal SIGKILL). */
	cli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
		const child = this.spawnCli(args, { env: options.env, stdin: options.input !== undefined ? 'pipe' : 'ignore' });
		if (options.input !== undefined) child.stdin!.end(options.input);
		return collect(child, options.timeoutMs ?? 60_000);
	}

	async dispose(): Promise<void> {
		if (this.containerStarted) {
			await runCli(['--home', this.home.dir, 'server', 'stop', '--timeout', '2'], { timeoutMs: 60_000 }).catch(() => undefined);
			await docker(['rm', '-f', '-v', this.containerName], { allowFailure: true });
			await docker(['network', 'rm', this.home.networkName], { allowFailure: true });
			await removeHomeVolumes(this.home.hash);
		}
		// Files the container wrote belong to its user; root (or the same uid) removes them all.
		rmSync(this.home.dir, { recursive: true, force: true });
	}
}

export function collect(child: ChildProcess, timeoutMs: number): Promise<CliResult> {
	return new Promise((resolve) => {
		let stdout = '';
		let stderr = '';
		child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
		child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
		const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, stdout, stderr });
		});
	});
}

/** Resolves when `text` appears on the child's stdout (or stderr); rejects after `timeoutMs`. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
	return new Promise((resolve, reject) => {
		let seen = '';
		const onData = (c: Buffer) => {
			seen += c.toString();
			if (pattern.test(seen)) {
				cleanup();
				resolve(seen);
			}
		};
		const timer = setTimeout(() => {
			cleanup();
			reject(new Error(`${pattern} not seen within ${timeoutMs} ms; output so far:\n${seen}`));
		}, timeoutMs);
		const cleanup = () => {
			clearTimeout(timer);
			child.stdout?.off('data', onData);
			child.stderr?.off('data', onData);
		};
		child.stdout?.on('data', onData);
		child.stderr?.on('data', onData);
	});
}
