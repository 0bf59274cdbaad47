// Owns the agent-runner image: whether it is present and current, and building it from the
// packaged docker/ context through the engine's /build endpoint with progress reporting.
import path from 'node:path';
import type { Readable } from 'node:stream';
import { baseImage, imageBaseLabel, imageSourceLabel, imageVersionLabel } from '../contract.js';
import { UserError, errorMessage } from '../errors.js';
import { packageRoot, packageVersion } from '../version.js';
import { type DockerApi, abortable, engineMessage, engineStatus, orNull } from '../engine/DockerApi.js';
import { buildDockerfile, buildTarget, contextFiles, contextTar, hashContext } from '../buildContext.js';
import { jsonLines } from '../engine/streams.js';

export interface ImageInfo {
	id: string;
	version: string | null;
	/** the source hash it was built from (buildContext.ts), null for an image stigmer did not build */
	source: string | null;
	/** the id of the base image it was built on */
	baseId: string | null;
	created: string;
	size: number;
}

export async function inspectImage(api: DockerApi, image: string): Promise<ImageInfo | null> {
	const found = (await orNull(api.docker.getImage(image).inspect())) as { Id: string; Created: string; Size: number; Config?: { Labels?: Record<string, string> | null } } | null;
	if (!found) return null;
	const labels = found.Config?.Labels ?? {};
	return { id: found.Id, version: labels[imageVersionLabel] ?? null, source: labels[imageSourceLabel] ?? null, baseId: labels[imageBaseLabel] ?? null, created: found.Created, size: found.Size };
}

export type BuildProgress = { kind: 'step'; step: number; steps: number; text: string } | { kind: 'output'; text: string } | { kind: 'base'; text: string };

async function ensureBaseImage(api: DockerApi, onProgress: (p: BuildProgress) => void): Promise<ImageInfo> {
	const present = await inspectImage(api, baseImage);
	if (present) return present;
	onProgress({ kind: 'base', text: `pulling ${baseImage}` });
	let failure: string | null = null;
	try {
		const res = (await api.docker.pull(baseImage)) as Readable;
		for await (const event of jsonLines<{ error?: string; status?: string }>(res)) {
			if (event.error) failure = event.error;
		}
	} catch (error) {
		failure = engineStatus(error) === undefined ? errorMessage(error) : engineMessage(error);
	}
	const pulled = failure === null ? await inspectImage(api, baseImage) : null;
	if (!pulled) {
		throw new UserError(
			`the base image ${baseImage} is missing and cannot be pulled (${failure ?? 'not found after pull'})`,
			1,
			`without a registry, make it locally from Debian's mirror: bash ${path.join(packageRoot, 'docker', 'base-image.sh')}`,
		);
	}
	return pulled;
}

export interface BuildOptions {
	image: string;
	onProgress?: (p: BuildProgress) => void;
	signal?: AbortSignal;
	/** defaults to the installed package's own files */
	contextRoot?: string;
}

/**
 * Builds the runtime image. A failed RUN arrives as an `error` event in the progress stream (the HTTP
 * status is 200), so the stream is read to its end and the failing step's output is kept.
 */
export async function buildImage(api: DockerApi, options: BuildOptions): Promise<ImageInfo> {
	const onProgress = options.onProgress ?? (() => {});
	const base = await ensureBaseImage(api, onProgress);
	const files = contextFiles(options.contextRoot ?? packageRoot);
	const source = hashContext(files, packageVersion);
	const body = await contextTar(files);
	let stepOutput: string[] = [];
	let currentStep = '';
	let res: Readable;
	try {
		// a Buffer is sent as is (docker-modem); @types/dockerode knows only streams and paths
		const stream = await api.docker.buildImage(body as unknown as NodeJS.ReadableStream, {
			t: options.image,
			dockerfile: buildDockerfile,
			target: buildTarget,
			buildargs: { STIGMER_VERSION: packageVersion },
			// labels of the build request, not of the Dockerfile: the Dockerfile is part of what is hashed
			labels: { [imageSourceLabel]: source, [imageBaseLabel]: base.id },
			rm: true,
			forcerm: true,
			...(options.signal ? { abortSignal: options.signal } : {}),
		});
		res = abortable(stream as unknown as Readable, options.signal);
	} catch (error) {
		if (engineStatus(error) !== undefined) throw new UserError(`building ${options.image} failed: ${engineMessage(error)}`);
		throw error;
	}
	let pending = '';
	for await (const event of jsonLines<{ stream?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } }>(res)) {
		if (event.error) {
			const tail = stepOutput.slice(-40).join('\n');
			throw new UserError(
				`building ${options.image} failed at ${currentStep || 'an early step'}:\n${tail}\n${event.errorDetail?.message ?? event.error}`,
				1,
				'fix the failing step (see the output above), then run `stigmer server start --build` again',
			);
		}
		if (event.stream) {
			pending += event.stream;
			let index: number;
			while ((index = pending.indexOf('\n')) >= 0) {
				const line = pending.slice(0, index).replace(/\r$/, '');
				pending = pending.slice(index + 1);
				// Docker: `Step 1/9 : FROM …`; Podman: `STEP 1/9: FROM …`, `[2/3] STEP 1/9: FROM …` in a multi-stage build
				const step = /^(?:\[\d+\/\d+\] )?Step (\d+)\/(\d+) ?: (.*)$/i.exec(line);
				if (step) {
					currentStep = `step ${step[1]}/${step[2]} (${step[3]})`;
					stepOutput = [];
					onProgress({ kind: 'step', step: Number(step[1]), steps: Number(step[2]), text: step[3]! });
				} else if (line.trim() !== '') {
					stepOutput.push(line);
					if (stepOutput.length > 200) stepOutput.splice(0, stepOutput.length - 200);
					onProgress({ kind: 'output', text: line });
				}
			}
		}
	}
	const info = await inspectImage(api, options.image);
	if (!info) throw new UserError(`building ${options.image} finished but the image is not there`, 1, 'run `stigmer server start --build` again; `stigmer doctor` checks the engine');
	return info;
}
