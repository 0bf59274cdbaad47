// Registry credentials as `docker pull` finds them: the docker CLI's $DOCKER_CONFIG/config.json (default
// ~/.docker), a credential helper (`credHelpers` for the registry, else `credsStore`: the program
// `docker-credential-<name> get`, the registry on stdin), else `auths` (what `docker login` wrote without a
// helper: base64 `user:password`, or an identity token). Handed to the engine as X-Registry-Auth.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { dockerConfigDir } from './endpoint.js';

/** dockerode's `authconfig` (the engine's AuthConfig). */
export interface RegistryAuth {
	username?: string;
	password?: string;
	identitytoken?: string;
	serveraddress: string;
}

const dockerHubKey = 'https://index.docker.io/v1/';

/** The registry host of an image reference (`docker.io` when the first part names none), as docker reads it. */
export function registryOf(image: string): string {
	const slash = image.indexOf('/');
	if (slash < 0) return 'docker.io';
	const first = image.slice(0, slash);
	return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

interface DockerConfigFile {
	auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string }>;
	credHelpers?: Record<string, string>;
	credsStore?: string;
}

function fromHelper(helper: string, key: string, serveraddress: string, env: NodeJS.ProcessEnv): RegistryAuth | null {
	const result = spawnSync(`docker-credential-${helper}`, ['get'], { input: key, encoding: 'utf8', timeout: 30_000, env });
	if (result.status !== 0 || !result.stdout) return null; // not found in the store, or no such helper: anonymous, as docker does
	try {
		const found = JSON.parse(result.stdout) as { Username?: string; Secret?: string };
		if (!found.Secret) return null;
		return found.Username === '<token>' ? { identitytoken: found.Secret, serveraddress } : { username: found.Username ?? '', password: found.Secret, serveraddress };
	} catch {
		return null;
	}
}

/** The credentials for `image`'s registry, or null (an anonymous pull). */
export function registryAuth(image: string, env: NodeJS.ProcessEnv = process.env): RegistryAuth | null {
	let config: DockerConfigFile;
	try {
		config = JSON.parse(readFileSync(path.join(dockerConfigDir(env), 'config.json'), 'utf8')) as DockerConfigFile;
	} catch {
		return null; // no config: anonymous
	}
	const registry = registryOf(image);
	const key = registry === 'docker.io' ? dockerHubKey : registry;
	const helper = config.credHelpers?.[registry] ?? config.credsStore;
	if (helper) return fromHelper(helper, key, key, env);
	const entry = config.auths?.[key] ?? config.auths?.[`https://${key}`] ?? config.auths?.[`http://${key}`];
	if (!entry) return null;
	if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress: key };
	if (entry.auth) {
		const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
		const colon = decoded.indexOf(':');
		if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: key };
	}
	if (entry.username && entry.password) return { username: entry.username, password: entry.password, serveraddress: key };
	return null;
}
