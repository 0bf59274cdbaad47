// Which agent-runner image this stigmer needs, whether the engine has it, and whether a container runs
// an older one. stigmer's own image is content-addressed: its tag is `<version>-<hash12>` and its label
// `ai.stigmer.image-source` the full hash of the sources it was built from (buildContext.ts); a
// user's own image (agentRunner.image outside stigmer's repository) is taken as it is.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { StigmerConfig } from '../config/types.js';
import { agentRunnerService, imageRepository, imageSourceLabel } from '../contract.js';
import { imageSourceHash, shortHash } from '../buildContext.js';
import type { DockerApi } from '../engine/DockerApi.js';
import type { BuildProgress, ImageInfo } from './ImageBuilder.js';
import { errorMessage } from '../errors.js';
import type { ImageSourceStatus } from '../serviceStatus.js';
import { packageRoot } from '../version.js';

/** Whether `image` is one stigmer builds itself (then its sources must match this stigmer's). */
export const isOwnImage = (image: string): boolean => image.startsWith(`${imageRepository}:`);

/** The source hash this stigmer needs for `image`: its own context's hash, or null for a user's image. */
export function neededSource(image: string): string | null {
	return isOwnImage(image) ? imageSourceHash() : null;
}

export interface EnsureImageOptions {
	build?: boolean;
	signal?: AbortSignal;
	onProgress?: (progress: BuildProgress) => void;
	/** a pull's progress and retries (an image of another repository, by tag or digest) */
	onPull?: (text: string) => void;
}

/** The file a release pins its pushed image in (`npm run release:image -- REGISTRY --pin`), at the package's root. */
export const pinnedImageFile = 'agent-runner-image.json';

/** The registry image, by digest, that a release pushed for exactly these sources; null when none is pinned. */
export function pinnedImage(root: string = packageRoot): string | null {
	try {
		const pinned = JSON.parse(readFileSync(path.join(root, pinnedImageFile), 'utf8')) as { image?: string; source?: string };
		return typeof pinned.image === 'string' && pinned.source === imageSourceHash(root) ? pinned.image : null;
	} catch {
		return null;
	}
}

/** stigmer's own image from the registry the release pinned, tagged as its own; null (and why) when that fails. */
async function pullPinned(api: DockerApi, image: string, options: EnsureImageOptions): Promise<ImageInfo | null> {
	const pinned = pinnedImage();
	if (!pinned) return null;
	const [{ pullImage }, { inspectImage }] = await Promise.all([import('./ImagePuller.js'), import('./ImageBuilder.js')]);
	try {
		const pulled = await pullImage(api, pinned, { signal: options.signal, onProgress: options.onPull });
		const colon = image.lastIndexOf(':');
		await api.docker.getImage(pulled.id).tag({ repo: image.slice(0, colon), tag: image.slice(colon + 1) });
		const tagged = await inspectImage(api, image);
		if (tagged?.source === neededSource(image)) return tagged;
		options.onPull?.(`${pinned} was not built from these sources: building the image instead`);
	} catch (error) {
		if (options.signal?.aborted) throw error;
		options.onPull?.(`${errorMessage(error)}: building the image instead`);
	}
	return null;
}

/**
 * The configured image: stigmer's own is pulled from the registry its release pinned, else built, when it
 * is missing or stale (another source hash under its tag), and built when `--build` asks; any other (a
 * registry's, by tag or digest) is pulled when missing.
 */
export async function ensureImage(api: DockerApi, config: StigmerConfig, options: EnsureImageOptions): Promise<ImageInfo> {
	// loaded here, not with the module: `server status` and `doctor` read this module's source checks only
	const [{ buildImage, inspectImage }, { pullImage }] = await Promise.all([import('./ImageBuilder.js'), import('./ImagePuller.js')]);
	const image = config.agentRunner.image;
	const existing = await inspectImage(api, image);
	const needed = neededSource(image);
	const stale = existing !== null && needed !== null && existing.source !== needed;
	if (existing && !options.build && !stale) return existing;
	if (needed === null && !options.build) return pullImage(api, image, { signal: options.signal, onProgress: options.onPull });
	if (!options.build) {
		const pulled = await pullPinned(api, image, options);
		if (pulled) return pulled;
	}
	return buildImage(api, { image, signal: options.signal, onProgress: options.onProgress });
}

/** The source hash a container was made from (its own label; an image's labels are merged into it too). */
export function containerSource(labels: Record<string, string> | null | undefined): string | null {
	return labels?.[imageSourceLabel] ?? null;
}

/**
 * The one line `server start` prints when it replaces a container whose image was built from other
 * sources than the image it now runs; null when the sources are the same (or the image is a user's).
 */
export function outdatedReason(running: string | null, wanted: string | null): string | null {
	if (wanted === null || running === wanted) return null;
	return `${agentRunnerService} image is out of date (built from ${running ? shortHash(running) : 'unknown sources'}, this stigmer needs ${shortHash(wanted)}): replacing`;
}

export function imageSourceStatus(labels: Record<string, string> | null | undefined, image: string): ImageSourceStatus {
	const hash = containerSource(labels);
	const needed = neededSource(image);
	return { hash, needed, matches: needed === null || labels === undefined ? null : hash === needed };
}
