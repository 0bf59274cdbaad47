// The agent-runner image's build context (the packaged docker/ and agent-runner/ files) and the hash that
// names it. The hash is computed from the files alone, without the engine or a build, so `server start`
// can tell whether the image it finds (tag `<version>-<hash12>`, label `ai.stigmer.image-source`) was
// built from exactly the sources this stigmer carries; a changed runner under the same version gets a
// new tag instead of silently reusing the old image (issue 22).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { packageRoot, packageVersion } from './version.js';
import { nodeCrypto } from './lazyBuiltins.js';

/** Directories of the package that form the build context (the Dockerfile copies only from these). */
const contextDirs = ['docker', 'agent-runner'];
const skipped = new Set(['__pycache__', '.pytest_cache', 'node_modules', '.mypy_cache']);

export interface ContextFile {
	/** path inside the context, `/`-separated */
	name: string;
	/** 0o755 when any execute bit is set, else 0o644: a checkout's umask and npm's normalised modes give one hash */
	mode: number;
	data: Buffer;
}

/** The build target and arguments are part of what an image is built from, so they are hashed too. */
export const buildTarget = 'runtime';
export const buildDockerfile = 'docker/Dockerfile';

export function contextFiles(root: string): ContextFile[] {
	const names: string[] = [];
	const walk = (rel: string) => {
		for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
			if (skipped.has(entry.name) || entry.name.endsWith('.pyc')) continue;
			const child = path.posix.join(rel, entry.name);
			if (entry.isDirectory()) walk(child);
			else if (entry.isFile()) names.push(child);
		}
	};
	// .dockerignore is not sent: these files are the context already, and the npm package does not carry
	// it (a checkout and an installed package of the same sources must have one hash)
	for (const dir of contextDirs) walk(dir);
	return names.sort().map((name) => {
		const full = path.join(root, name);
		return { name, mode: statSync(full).mode & 0o111 ? 0o755 : 0o644, data: readFileSync(full) };
	});
}

/** sha256 (hex) of the files (names, modes, contents), the target and the version build argument. */
export function hashContext(files: ContextFile[], version: string): string {
	const { createHash } = nodeCrypto(); // a checkout's sources only (an installed package reads dist/image-source.json)
	const hash = createHash('sha256');
	hash.update(`stigmer-image-source/1\0${buildDockerfile}\0${buildTarget}\0STIGMER_VERSION=${version}\0`);
	for (const f of files) {
		hash.update(`${f.name}\0${f.mode.toString(8)}\0${f.data.length}\0`);
		hash.update(f.data);
	}
	return hash.digest('hex');
}

const memo = new Map<string, string>();

/**
 * The hash an installed package's build wrote beside its code (scripts/image-source.mjs): reading it costs
 * one small file instead of walking and reading the context's 30-odd files (≈3 ms, 18 ms cold). A checkout
 * (source/ beside dist/) hashes its files every time, so an edited runner is never taken for the built one.
 */
export const precomputedFile = 'dist/image-source.json';

function precomputed(root: string): string | null {
	if (existsSync(path.join(root, 'source'))) return null;
	try {
		const found = JSON.parse(readFileSync(path.join(root, precomputedFile), 'utf8')) as { version?: string; hash?: string };
		return found.version === packageVersion && typeof found.hash === 'string' ? found.hash : null;
	} catch {
		return null;
	}
}

/** The source hash of the context under `root` (the installed package's own by default); once per process. */
export function imageSourceHash(root: string = packageRoot): string {
	let hash = memo.get(root);
	if (hash === undefined) {
		hash = precomputed(root) ?? hashContext(contextFiles(root), packageVersion);
		memo.set(root, hash);
	}
	return hash;
}

/** The short form used in tags and messages. */
export const shortHash = (hash: string): string => hash.slice(0, 12);

/** The build context as an in-memory tar (it is small: Python sources and the Dockerfile). */
export async function contextTar(files: ContextFile[]): Promise<Buffer> {
	const { pack } = await import('tar-stream');
	const tar = pack();
	const chunks: Buffer[] = [];
	tar.on('data', (c: unknown) => chunks.push(c as Buffer));
	const done = new Promise<void>((resolve, reject) => {
		tar.on('end', resolve);
		tar.on('error', reject);
	});
	// Fixed mtimes and owners keep the context byte-identical across checkouts, so the engine's cache hits.
	for (const f of files) tar.entry({ name: f.name, mode: f.mode, mtime: new Date(0), uid: 0, gid: 0 }, f.data);
	tar.finalize();
	await done;
	return Buffer.concat(chunks);
}
