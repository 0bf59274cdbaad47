// dockerode loads two large libraries at require time that stigmer never uses on a unix socket or a
// tcp(+TLS) engine: ssh2 (docker-modem's ssh transport, ≈90 ms) and gRPC with its proto loader
// (dockerode's BuildKit session, ≈100 ms). That was most of what dockerode added to `server status`.
// tar-fs (builds from a directory, which stigmer does not ask dockerode for) is deferred the same way.
// This module puts lazy stand-ins for them in `require.cache` (a documented, writable cache: "adding or
// replacing entries is also possible") before dockerode is required; the real library is loaded on the
// first use of a property, and only then. Below dockerode's public API: deferDockerodeExtras.test.ts
// fails loudly if dockerode or docker-modem stop requiring these modules this way, and
// docs/architecture.md ("Below a dependency's public API") says why this exists.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Modules replaced by stand-ins, with how their exports are used at require time. */
const deferred = [
	// docker-modem/lib/ssh.js: `var Client = require('ssh2').Client` at load, `new Client()` per ssh dial
	{ request: 'ssh2', from: 'docker-modem', constructors: ['Client'] },
	// dockerode/lib/session.js: `grpc = require('@grpc/grpc-js')`, `protoLoader = require(...)`, used per build
	{ request: '@grpc/grpc-js', from: 'dockerode', constructors: [] },
	{ request: '@grpc/proto-loader', from: 'dockerode', constructors: [] },
	// dockerode/lib/util.js: `var tar = require('tar-fs')` at load, `tar.pack(...)` per build from a
	// directory (stigmer sends its own tar stream): tar-fs with tar-stream, bl, pump… is 14 files
	{ request: 'tar-fs', from: 'dockerode', constructors: [] },
] as const;

export interface DeferredModule {
	request: string;
	/** the file the stand-in answers for (the module's resolved entry point) */
	filename: string;
	/** whether the real module has been loaded since */
	loaded: () => boolean;
}

let installed: DeferredModule[] | null = null;

/** Installs the stand-ins once; returns what was deferred (empty where a module cannot be resolved). */
export function deferDockerodeExtras(): DeferredModule[] {
	if (installed) return installed;
	installed = [];
	for (const { request, from, constructors } of deferred) {
		let filename: string;
		try {
			// resolved as the requiring package resolves it, so the cache key is the one it will ask for
			const fromRequire = createRequire(require.resolve(`${from}/package.json`));
			filename = fromRequire.resolve(request);
		} catch {
			continue; // not installed where expected: nothing to defer, dockerode loads it as usual
		}
		if (require.cache[filename]) continue; // already loaded for real
		let real: Record<string | symbol, unknown> | null = null;
		const load = (): Record<string | symbol, unknown> => {
			if (!real) {
				delete require.cache[filename];
				real = require(filename) as Record<string | symbol, unknown>;
			}
			return real;
		};
		const standIns = new Map<string | symbol, unknown>();
		for (const name of constructors) {
			// a constructor read at load time and called later: construct the real one then
			standIns.set(name, function deferredConstructor(this: unknown, ...args: unknown[]) {
				const Real = load()[name] as new (...a: unknown[]) => unknown;
				return Reflect.construct(Real, args, new.target && new.target !== deferredConstructor ? new.target : Real);
			});
		}
		const exports = new Proxy(
			{},
			{
				get: (_target, key) => (!real && standIns.has(key) ? standIns.get(key) : load()[key]),
				has: (_target, key) => key in load(),
				ownKeys: () => Reflect.ownKeys(load()),
				getOwnPropertyDescriptor: (_target, key) => {
					const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
					return descriptor ? { ...descriptor, configurable: true } : undefined;
				},
			},
		);
		const module = { id: filename, filename, loaded: true, exports, children: [], paths: [], path: filename } as unknown as NodeJS.Module;
		require.cache[filename] = module;
		installed.push({ request, filename, loaded: () => real !== null });
	}
	return installed;
}
