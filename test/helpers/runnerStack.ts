// A throwaway stigmer home with a running agent-runner container, for the tests and benchmarks of
// `stigmer run`, `stigmer executions` and `stigmer shell`, plus a way to run the CLI against it.
//
// Until `stigmer server start` lands, the container is started here with the settings the lifecycle
// will use (name and labels of the home, host network with the API on 127.0.0.1:<port>, non-root,
// read-only root). Switching to `stigmer server start --home DIR` only changes `startContainer`.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { agentRunnerService, containerEnv, containerPaths, imageTag, imageUser, labels } from '../../source/contract.js';
import { StigmerHome } from '../../source/home/StigmerHome.js';
import { packageVersion } from '../../source/version.js';
import { docker, dockerBuild, dockerInspect, dockerLogs, waitForHttp } from './docker.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const testRunLabel = 'ai.stigmer.test=run-executions-shell';

export interface CliResult {
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
}

export interface RunnerStackOptions {
	/** base URL of the LLM as the container sees it (host network: the host's 127.0.0.1 works) */
	llmUrl: string;
	maxConcurrency?: number;
	/** start no container (a home whose runner is not running) */
	noContainer?: boolean;
	extraEnv?: Record<string, string>;
}

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

/** Builds the agent-runner image when it is missing (the classic builder also runs the Python tests). */
export async function ensureImage(): Promise<string> {
	const image = imageTag(packageVersion);
	if (!(await dockerInspect(image, 'image'))) {
		await dockerBuild(['-f', path.join(repoRoot, 'docker/Dockerfile'), '--build-arg', `STIGMER_VERSION=${packageVersion}`, '-t', image, repoRoot], { timeoutMs: 900_000 });
	}
	return image;
}

export class RunnerStack {
	readonly home: StigmerHome;
	readonly token = `test-${randomBytes(16).toString('hex')}`;
	private containerStarted = false;

	private constructor(
		readonly port: number,
		readonly options: RunnerStackOptions,
	) {
		this.home = new StigmerHome(mkdtempSync(path.join(tmpdir(), 'stigmer-run-test-')), false);
	}

	static async start(options: RunnerStackOptions): Promise<RunnerStack> {
		const stack = new RunnerStack(await freePort(), options);
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
				`  maxConcurrency: ${this.options.maxConcurrency ?? 4}`,
				'  llm:',
				`    baseUrl: ${this.options.llmUrl}`,
				'    model: fake-model',
				'services: {}',
				'',
			].join('\n'),
		);
		writeFileSync(home.apiTokenFile, `${this.token}\n`, { mode: 0o600 });
		if (process.getuid?.() === 0) {
			// As root the container runs as the image's user: hand it the mounts, nobody else.
			for (const p of [home.workspaceDir, home.agentRunnerDataDir, home.apiTokenFile]) chownSync(p, imageUser.uid, imageUser.gid);
			chmodSync(home.workspaceDir, 0o700);
			chmodSync(home.agentRunnerDataDir, 0o700);
		}
	}

	async startContainer(): Promise<void> {
		const image = await ensureImage();
		const home = this.home;
		const user = process.getuid?.() === 0 ? `${imageUser.uid}:${imageUser.gid}` : `${process.getuid!()}:${process.getgid!()}`;
		const env: Record<string, string> = {
			[containerEnv.httpHost]: '127.0.0.1',
			[containerEnv.httpPort]: String(this.port),
			[containerEnv.llmBaseUrl]: this.options.llmUrl,
			[containerEnv.llmModel]: 'fake-model',
			[containerEnv.maxConcurrency]: String(this.options.maxConcurrency ?? 4),
			STIGMER_SHUTDOWN_GRACE_SECONDS: '1',
			...this.options.extraEnv,
		};
		await docker([
			'run', '-d',
			'--name', home.containerName,
			'--label', `${labels.managed}=true`,
			'--label', `${labels.service}=${agentRunnerService}`,
			'--label', `${labels.home}=${home.hash}`,
			'--label', testRunLabel,
			'--network', 'host',
			'--init', '--read-only', '--tmpfs', '/tmp',
			'--cap-drop', 'ALL', '--security-opt', 'no-new-privileges',
			'--memory', '1g', '--cpus', '2',
			'--user', user,
			'-v', `${home.workspaceDir}:${containerPaths.workspace}`,
			'-v', `${home.agentRunnerDataDir}:${containerPaths.data}`,
			'-v', `${home.apiTokenFile}:${containerPaths.apiToken}:ro`,
			...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
			image,
		]);
		this.containerStarted = true;
		await this.waitReady();
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

	async logs(): Promise<string> {
		return dockerLogs(this.containerName);
	}

	/** Runs the CLI from source (`node --import tsx source/cli.ts --home DIR …`) as a child process. */
	spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: 'ignore' | 'pipe' } = {}): ChildProcess {
		return spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'source/cli.ts'), '--home', this.home.dir, ...args], {
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
		if (this.containerStarted) await docker(['rm', '-f', '-v', this.containerName], { allowFailure: true });
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
