// `stigmer doctor`: every setup problem turned into the exact fix.
import { accessSync, constants, statSync, statfsSync } from 'node:fs';
import { loadConfig } from '../config/loadConfig.js';
import { describeNetworkPolicy } from '../config/networkPolicy.js';
import type { StigmerConfig } from '../config/types.js';
import { type Readable, Writable } from 'node:stream';
import { agentRunnerService, baseImage, containerEnv, exitCodes } from '../contract.js';
import { currentContainer } from '../agentRunner/ContainerService.js';
import { listRemoteVolumes } from '../agentRunner/volumes.js';
import { DockerApi, abortable, engineVersion } from '../engine/DockerApi.js';
import { engineIsRemote } from '../engine/locality.js';
import { inspectImage } from '../agentRunner/ImageBuilder.js';
import { fileSystemOf, formatBytes } from '../platform/fileSystem.js';
import { shortHash } from '../buildContext.js';
import type { ImageSourceStatus } from '../serviceStatus.js';
import { imageSourceStatus, neededSource, outdatedReason } from '../agentRunner/image.js';
import { processFacts } from '../platform/ProcessFacts.js';
import { sanitizeForTerminal } from '../terminal/sanitizeForTerminal.js';
import { type UserError, errorMessage } from '../errors.js';
import type { LlmForwardStatus } from '../supervisor/LlmForward.js';
import { currentForward } from '../supervisor/SupervisorClient.js';
import { httpStatus, probeTcp } from '../supervisor/readiness.js';
import { packageRoot } from '../version.js';
import type { CommandArgs, CommandContext } from './CommandContext.js';

export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';
export interface Check {
	name: string;
	status: CheckStatus;
	detail: string;
	fix?: string;
	/** the image checks: the source hash found, the one this stigmer needs, and whether they match */
	imageSource?: ImageSourceStatus;
}

async function execInContainer(api: DockerApi, id: string, cmd: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
	const exec = await api.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, Tty: false });
	const signal = AbortSignal.timeout(timeoutMs);
	const res = abortable((await exec.start({ Detach: false, Tty: false, abortSignal: signal })) as unknown as Readable, signal);
	const parts: Buffer[] = [];
	const output = new Writable({
		write(chunk: Buffer, _encoding, done) {
			parts.push(chunk);
			done();
		},
	});
	api.docker.modem.demuxStream(res, output, output);
	await new Promise<void>((resolve, reject) => {
		res.once('end', resolve);
		res.once('error', reject);
	});
	const info = await exec.inspect();
	return { exitCode: info.ExitCode ?? -1, output: Buffer.concat(parts).toString('utf8').trim() };
}

/** Below this, state files and logs will soon fail to be written; below the warning level, a busy day's logs do not fit. */
const homeFailBytes = 16 * 1024 * 1024;
const homeWarnBytes = 256 * 1024 * 1024;

/** Free space on the home's file system: a full disk is a state of its own, not "all checks passed". */
export function homeDiskCheck(dir: string): Check {
	const fs = fileSystemOf(dir);
	if (fs.freeBytes === null) return { name: 'home disk', status: 'skip', detail: `cannot tell the free space under ${dir}` };
	const detail = `${formatBytes(fs.freeBytes)} free${fs.totalBytes ? ` of ${formatBytes(fs.totalBytes)}` : ''} on ${fs.mountPoint} (the home, ${dir})`;
	const fix = `free space on ${fs.mountPoint} (logs under ${dir}/logs can go), or choose another home with --home`;
	if (fs.freeBytes < homeFailBytes) return { name: 'home disk', status: 'fail', detail: `${detail}: logs and state cannot be written`, fix };
	if (fs.freeBytes < homeWarnBytes) return { name: 'home disk', status: 'warn', detail, fix };
	return { name: 'home disk', status: 'ok', detail };
}

export async function runChecks(ctx: CommandContext): Promise<Check[]> {
	const checks: Check[] = [];
	const home = ctx.home;

	let config: StigmerConfig | null = null;
	try {
		config = loadConfig(home);
		checks.push({ name: 'config', status: 'ok', detail: config.file ? `${config.file} is valid` : 'no config.yaml: defaults apply' });
	} catch (error) {
		checks.push({ name: 'config', status: 'fail', detail: errorMessage(error), fix: (error as UserError).hint ?? `fix ${home.configFile}` });
	}

	try {
		home.ensureLayout();
		accessSync(home.dir, constants.W_OK);
		const secretsMode = statSync(home.secretsDir).mode & 0o777;
		checks.push({ name: 'home', status: 'ok', detail: `${home.dir} is writable; secrets/ is ${secretsMode.toString(8)}` });
	} catch (error) {
		checks.push({ name: 'home', status: 'fail', detail: errorMessage(error), fix: (error as UserError).hint ?? `make ${home.dir} writable or choose another with --home` });
	}
	checks.push(homeDiskCheck(home.dir));

	let api: DockerApi | null = null;
	try {
		api = await DockerApi.connect();
		const info = api.info!;
		if (!info.arch) {
			// connecting asked /_ping only, whose headers lack the architecture (Podman's also the OS)
			const version = (await engineVersion(api.docker, AbortSignal.timeout(30_000))) as { Os?: string; Arch?: string };
			info.os = version.Os ?? info.os;
			info.arch = version.Arch ?? '';
		}
		checks.push({
			name: 'engine',
			status: 'ok',
			detail: `${info.platform} ${info.version} at ${info.endpoint} (${engineIsRemote(api.endpoint) ? 'remote' : 'local'}; API ${info.apiVersion}, ${info.os}/${info.arch})`,
		});
	} catch (error) {
		checks.push({ name: 'engine', status: 'fail', detail: errorMessage(error), fix: (error as UserError).hint });
	}

	if (api) {
		try {
			const info = (await api.docker.info()) as { DockerRootDir?: string };
			const local = api.endpoint.kind === 'unix' && info.DockerRootDir && process.platform === 'linux';
			const dir = local ? info.DockerRootDir! : home.dir;
			let free: number | null = null;
			try {
				const fs = statfsSync(dir);
				free = fs.bavail * fs.bsize;
			} catch {
				free = null; // not visible from here (a VM): say nothing wrong
			}
			if (free === null) checks.push({ name: 'disk', status: 'skip', detail: `cannot see ${dir} from here` });
			else if (free < 1e9)
				checks.push({ name: 'disk', status: 'fail', detail: `${(free / 1e9).toFixed(2)} GB free under ${dir}`, fix: 'free at least 1 GB: docker system prune, or remove unused images' });
			else checks.push({ name: 'disk', status: 'ok', detail: `${(free / 1e9).toFixed(1)} GB free under ${dir}` });
		} catch (error) {
			checks.push({ name: 'disk', status: 'warn', detail: errorMessage(error) });
		}
	}

	if (api && engineIsRemote(api.endpoint)) {
		// a remote engine keeps the workspace and data in the home's volumes (docs/architecture.md, "Remote engines")
		try {
			const volumes = (await listRemoteVolumes(api, home)).filter((v) => v.holds !== 'secrets');
			const detail = volumes.length
				? `${volumes.map((v) => `${v.name} (${v.holds})`).join(', ')} on the remote engine; \`stigmer server stop --volumes\` removes them`
				: `none yet: \`stigmer server start\` creates ${home.volumeName('workspace')} and ${home.volumeName('data')}`;
			checks.push({ name: 'volumes', status: 'ok', detail });
		} catch (error) {
			checks.push({ name: 'volumes', status: 'warn', detail: errorMessage(error) });
		}
	}

	if (config) {
		const ourContainer = api ? await currentContainer(api, home).catch(() => null) : null;
		checks.push(networkPolicyCheck(config, ourContainer?.State.Running ? (ourContainer.Config.Env ?? []) : null));
		const ports: Array<{ port: number; what: string }> = [{ port: config.agentRunner.port, what: `${agentRunnerService} (agentRunner.port)` }];
		for (const s of config.services) if (s.ready && 'tcp' in s.ready) ports.push({ port: s.ready.tcp, what: `${s.name} (ready.tcp)` });
		for (const { port, what } of ports) {
			if (!(await probeTcp(port))) {
				checks.push({ name: `port ${port}`, status: 'ok', detail: `free for ${what}` });
				continue;
			}
			if (port === config.agentRunner.port && ourContainer?.State.Running) {
				const how = api && engineIsRemote(api.endpoint) ? `API forward (the supervisor's, to ${agentRunnerService} on the remote engine)` : agentRunnerService;
				checks.push({ name: `port ${port}`, status: 'ok', detail: `held by this stack's ${how}` });
				continue;
			}
			const owner = processFacts().portOwner(port);
			const holder = owner ? `pid ${owner.pid} (${sanitizeForTerminal(owner.command.slice(0, 80), false)})` : 'another program';
			const ours = owner && what.includes('ready.tcp');
			checks.push({
				name: `port ${port}`,
				status: ours ? 'warn' : 'fail',
				detail: `127.0.0.1:${port}, needed by ${what}, is held by ${holder}`,
				fix: ours ? "fine if that is this stack's own service; otherwise stop it" : `stop it${owner ? ` (kill ${owner.pid})` : ''}, or choose another port in ${home.configFile}`,
			});
		}

		if (api) {
			const wanted = config.agentRunner.image;
			const image = await inspectImage(api, wanted).catch(() => null);
			const needed = neededSource(wanted);
			const source = (hash: string | null): ImageSourceStatus => ({ hash, needed, matches: needed === null ? null : hash === needed });
			const short = (hash: string | null) => (hash ? shortHash(hash) : 'unknown sources');
			if (!image)
				checks.push({ name: 'image', status: 'warn', detail: `${wanted} is not built yet`, fix: 'stigmer server start builds it (about a minute), or stigmer image build', imageSource: source(null) });
			else if (needed !== null && image.source !== needed)
				checks.push({
					name: 'image',
					status: 'warn',
					detail: `${wanted} was built from ${short(image.source)}, this stigmer needs ${short(needed)}`,
					fix: 'stigmer server start rebuilds it',
					imageSource: source(image.source),
				});
			else
				checks.push({
					name: 'image',
					status: 'ok',
					detail: `${wanted} (${image.source ? `built from ${short(image.source)}, ` : ''}${(image.size / 1e6).toFixed(0)} MB)`,
					imageSource: source(image.source),
				});
			if (ourContainer) {
				const running = imageSourceStatus(ourContainer.Config.Labels, wanted);
				const reason = outdatedReason(running.hash, needed);
				checks.push(
					reason
						? {
								name: 'container image',
								status: 'warn',
								detail: `${agentRunnerService} runs an image built from ${short(running.hash)}, this stigmer needs ${short(needed)}`,
								fix: 'stigmer server start replaces it (workspace, data and history are kept)',
								imageSource: running,
							}
						: {
								name: 'container image',
								status: 'ok',
								detail: `${agentRunnerService} runs ${running.hash ? `the image built from ${short(running.hash)}` : ourContainer.Config.Image}`,
								imageSource: running,
							},
				);
			}

			const base = await inspectImage(api, baseImage).catch(() => null);
			checks.push(
				base || image
					? { name: 'base image', status: 'ok', detail: base ? `${baseImage} present` : `not needed until a rebuild (${baseImage} is not present)` }
					: { name: 'base image', status: 'warn', detail: `${baseImage} is not present; the build pulls it`, fix: `without a registry: bash ${packageRoot}docker/base-image.sh` },
			);

			// the URL the running container was given, and the forward that carries it (if any)
			const envPrefix = `${containerEnv.llmBaseUrl}=`;
			const llmUrl = ourContainer?.Config.Env?.find((e) => e.startsWith(envPrefix))?.slice(envPrefix.length) ?? config.agentRunner.llm.baseUrl;
			const via = forwardText(await currentForward(home));
			if (ourContainer?.State.Running) {
				const probe = `import sys,urllib.request as u,urllib.error as e\ntry:\n u.urlopen(sys.argv[1].rstrip('/')+'/models',timeout=3)\nexcept e.HTTPError:\n pass\nexcept Exception as x:\n print(x); sys.exit(1)`;
				try {
					const result = await execInContainer(api, ourContainer.Id, ['python3', '-c', probe, llmUrl], 10_000);
					checks.push(
						result.exitCode === 0
							? { name: 'llm', status: 'ok', detail: `${llmUrl} answers from inside the container${via}` }
							: {
									name: 'llm',
									status: 'fail',
									detail: `${llmUrl} is unreachable from inside the container${via}: ${result.output}`,
									fix: `start the LLM server (e.g. ollama serve), or set agentRunner.llm.baseUrl in ${home.configFile} (as seen from the host)`,
								},
					);
				} catch (error) {
					checks.push({ name: 'llm', status: 'warn', detail: `could not probe from the container: ${errorMessage(error)}` });
				}
			} else {
				const status = await httpStatus(`${config.agentRunner.llm.baseUrl.replace(/\/$/, '')}/models`, 3000);
				checks.push(
					status !== null
						? { name: 'llm', status: 'ok', detail: `${config.agentRunner.llm.baseUrl} answers from the host (the container is not running, so it was not probed from inside)` }
						: {
								name: 'llm',
								status: 'warn',
								detail: `${config.agentRunner.llm.baseUrl} does not answer from the host`,
								fix: `start the LLM server (e.g. ollama serve), or set agentRunner.llm.baseUrl in ${home.configFile}`,
							},
				);
			}
		}
	}
	api?.close();
	return checks;
}

function forwardText(forward: LlmForwardStatus | null): string {
	if (!forward) return '';
	const from = `${forward.listenHost}:${forward.boundPort}`;
	const to = `${forward.targetHost.includes(':') ? `[${forward.targetHost}]` : forward.targetHost}:${forward.targetPort}`;
	switch (forward.mode) {
		case 'forward':
			return ` (through the supervisor's forward ${from} -> ${to}, accepting ${forward.allow ?? 'any address'})`;
		case 'direct':
			return ` (the LLM listens on ${from} itself: no forward needed)`;
		default:
			return ` (the supervisor's forward ${from} -> ${to} is ${forward.mode}${forward.error ? `: ${forward.error}` : ''})`;
	}
}

const marks: Record<CheckStatus, [string, string]> = { ok: ['✔', '32'], warn: ['!', '33'], fail: ['✖', '31'], skip: ['-', '90'] };

export default async function doctor(ctx: CommandContext, { flags }: CommandArgs<'doctor'>): Promise<number> {
	const checks = await runChecks(ctx);
	const failed = checks.some((c) => c.status === 'fail');
	if (flags.json) {
		ctx.stdout.write(`${JSON.stringify({ ok: !failed, checks }, null, 2)}\n`);
	} else {
		const width = Math.max(...checks.map((c) => c.name.length));
		for (const c of checks) {
			const [mark, colour] = marks[c.status];
			const m = ctx.color ? `\x1b[${colour}m${mark}\x1b[0m` : mark;
			ctx.stdout.write(`${m} ${c.name.padEnd(width)}  ${c.detail}\n`);
			if (c.fix) ctx.stdout.write(`  ${' '.repeat(width)}  fix: ${c.fix}\n`);
		}
		ctx.stdout.write(failed ? '\nsome checks failed: apply the fixes above, then run `stigmer doctor` again\n' : '\nall checks passed\n');
	}
	return failed ? exitCodes.failure : exitCodes.ok;
}

/** What the executions' commands may reach: the configured policy, and the running container's when it differs. */
function networkPolicyCheck(config: StigmerConfig, runningEnv: string[] | null): Check {
	const policy = config.agentRunner.sandbox.network;
	const detail = `${describeNetworkPolicy(policy)}; agentRunner.sandbox.network`;
	const prefix = `${containerEnv.sandboxNetwork}=`;
	const running = runningEnv?.find((e) => e.startsWith(prefix))?.slice(prefix.length);
	if (runningEnv === null || running === policy) return { name: 'network policy', status: 'ok', detail };
	return {
		name: 'network policy',
		status: 'warn',
		detail: `the running container has ${running ? `policy ${running}` : 'no network policy (it predates it)'}; config.yaml says ${policy}`,
		fix: 'stigmer server restart',
	};
}
