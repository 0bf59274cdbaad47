// Pulls an image named by tag or digest (agentRunner.image) through the engine's /images/create, with
// progress, credentials as the docker CLI has them (registryAuth.ts), retries while the registry cannot be
// reached, and each refusal turned into its own message and fix. Nothing else is touched: a failed pull
// leaves a running stack as it was (the container is replaced only after its image is there).
import type { Readable } from 'node:stream';
import { UserError, errorMessage } from '../errors.js';
import { type DockerApi, abortable, engineMessage, engineStatus } from '../engine/DockerApi.js';
import { type ImageInfo, inspectImage } from './ImageBuilder.js';
import { registryAuth, registryOf } from '../engine/registryAuth.js';
import { jsonLines } from '../engine/streams.js';

export interface PullOptions {
	onProgress?: (text: string) => void;
	signal?: AbortSignal;
	/** attempts while the registry is unreachable (default 3), waiting 1 s, 2 s… between */
	attempts?: number;
	env?: NodeJS.ProcessEnv;
}

/** A refusal of the pull: `transient` ones (the registry unreachable) are tried again. */
export class PullRefusal extends UserError {
	constructor(
		message: string,
		hint: string,
		readonly transient: boolean,
	) {
		super(message, 1, hint);
		this.name = 'PullRefusal';
	}
}

/** The engine's words about a failed pull, as a refusal with its fix. */
export function classifyPullError(image: string, message: string, platform: string): PullRefusal {
	const registry = registryOf(image);
	const said = message.trim();
	if (/no matching manifest|does not match the specified platform|image with reference .* was found but does not match/i.test(said)) {
		return new PullRefusal(
			`the image ${image} has no build for ${platform}, the engine's platform (${said})`,
			`publish one for ${platform} (docker buildx build --platform ${platform} --push), or name another image in agentRunner.image`,
			false,
		);
	}
	if (/unauthorized|authentication required|no basic auth credentials|denied: requested access|\b401 /i.test(said)) {
		return new PullRefusal(
			`${registry} refused to give ${image} without a login (${said})`,
			`log in as the docker CLI does: docker login ${registry} (stigmer reads its credentials: $DOCKER_CONFIG/config.json, credential helpers included)`,
			false,
		);
	}
	if (/pull access denied|repository does not exist/i.test(said)) {
		return new PullRefusal(`${registry} has no image ${image}, or it needs a login (${said})`, `check the name in agentRunner.image; if the repository is private: docker login ${registry}`, false);
	}
	if (/manifest unknown|not found|name unknown|\b404 /i.test(said)) {
		return new PullRefusal(`${registry} has no image ${image} (${said})`, 'check the repository, tag or digest in agentRunner.image (`npm run release:image` prints the digest it pushed)', false);
	}
	if (/connection refused|no such host|i\/o timeout|network is unreachable|handshake timeout|dial tcp|connection reset|EOF|Service Unavailable|Bad Gateway|Gateway Timeout|timeout/i.test(said)) {
		return new PullRefusal(
			`cannot reach the registry ${registry} to pull ${image} (${said})`,
			`check that ${registry} is up and reachable from the engine (docker pull ${image} shows the same), or the network`,
			true,
		);
	}
	return new PullRefusal(`pulling ${image} failed: ${said}`, `docker pull ${image} shows the same refusal`, false);
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

async function pullOnce(api: DockerApi, image: string, options: PullOptions, platform: string): Promise<void> {
	const auth = registryAuth(image, options.env);
	let res: Readable;
	try {
		const stream = await api.docker.pull(image, { ...(auth ? { authconfig: auth } : {}), ...(options.signal ? { abortSignal: options.signal } : {}) });
		res = abortable(stream as unknown as Readable, options.signal);
	} catch (error) {
		if (options.signal?.aborted) throw error;
		throw classifyPullError(image, engineStatus(error) === undefined ? errorMessage(error) : engineMessage(error), platform);
	}
	const layers = new Map<string, { current: number; total: number; done: boolean }>();
	for await (const event of jsonLines<{ status?: string; id?: string; error?: string; progressDetail?: { current?: number; total?: number } }>(res)) {
		if (event.error) throw classifyPullError(image, event.error, platform);
		if (!event.id || !event.status) continue;
		const layer = layers.get(event.id) ?? { current: 0, total: 0, done: false };
		if (event.status === 'Downloading' && event.progressDetail?.total) {
			layer.current = event.progressDetail.current ?? 0;
			layer.total = event.progressDetail.total;
		}
		if (/^(Pull complete|Already exists|Download complete)$/.test(event.status)) {
			layer.done = event.status !== 'Download complete' || layer.done;
			if (layer.total) layer.current = layer.total;
		}
		layers.set(event.id, layer);
		let current = 0;
		let total = 0;
		for (const l of layers.values()) {
			current += l.current;
			total += l.total;
		}
		const done = [...layers.values()].filter((l) => l.done).length;
		options.onProgress?.(`pulling ${image}: ${done}/${layers.size} layers${total ? `, ${mb(current)} of ${mb(total)}` : ''}`);
	}
}

export async function pullImage(api: DockerApi, image: string, options: PullOptions = {}): Promise<ImageInfo> {
	const attempts = options.attempts ?? 3;
	const platform = `${api.info?.os ?? 'linux'}/${api.info?.arch ?? 'amd64'}`;
	for (let attempt = 1; ; attempt++) {
		options.onProgress?.(`pulling ${image}`);
		try {
			await pullOnce(api, image, options, platform);
			break;
		} catch (error) {
			if (!(error instanceof PullRefusal) || !error.transient || attempt >= attempts || options.signal?.aborted) throw error;
			const wait = 1000 * 2 ** (attempt - 1);
			options.onProgress?.(`${error.message.split(' (')[0]}: trying again in ${wait / 1000} s (attempt ${attempt + 1} of ${attempts})`);
			await new Promise((resolve) => setTimeout(resolve, wait));
		}
	}
	const info = await inspectImage(api, image);
	if (!info) throw new UserError(`pulling ${image} finished but the engine does not have it`, 1, `docker pull ${image} shows what the engine says`);
	return info;
}
