import type { LabConfig } from '../core/config.js';
import type { LabPaths } from '../core/paths.js';
import type { GuestPaths } from '../core/guest-paths.js';
import type { ManifestEntry } from './manifest.js';
import type { Connection, RemoteExecOptions, RemoteResult, SshTarget } from '../adapters/guest.js';
import type { ServiceStatus } from '../adapters/compose.js';

/** Every bound the pipeline waits on, in ms; tests shorten some of them. */
export interface ProvisionTimeouts {
  sshReadyMs: number;
  aptMs: number;
  dockerReadyMs: number;
  pullMs: number;
  baseImageBuildMs: number;
  makeMs: number;
  healthyMs: number;
  probeMs: number;
}

export const DEFAULT_TIMEOUTS: ProvisionTimeouts = {
  sshReadyMs: 180_000,
  aptMs: 900_000,
  dockerReadyMs: 60_000,
  pullMs: 300_000,
  baseImageBuildMs: 1_200_000,
  makeMs: 1_800_000,
  healthyMs: 300_000,
  probeMs: 60_000,
};

/** What the host prepared before the first step: nothing here needs SSH. */
export interface LocalInputs {
  manifest: ManifestEntry[];
  envFile: string;
  /** File name → content, read from paths.secrets; only ever sent on stdin. */
  secrets: Map<string, Buffer>;
  /** Hash of everything `make` consumes; stored in the guest after a successful make. */
  projectHash: string;
  /** A student's project with --env-file: that file's bytes, pushed as its srcs/.env. */
  ownEnvFile?: Buffer;
}

/** The typed context every step reads and (only for `conn`) writes. */
export interface ProvisionContext {
  config: LabConfig;
  paths: LabPaths;
  target: SshTarget;
  composeDir: string;
  guest: GuestPaths;
  local: LocalInputs;
  timeouts: ProvisionTimeouts;
  probeUrl: boolean;
  /** `make`'s goal when one was asked for (`deploy --target`); otherwise see makeArgs. */
  makeTarget: string | undefined;
  /** Set by the push step: the paths it uploaded and removed (none when it was skipped). */
  pushed: { uploaded: string[]; removed: string[] } | undefined;
  /**
   * The services as make's skip check saw them, all up: the wait that follows a skipped make
   * needs no second `compose ps` (two compose calls, seconds in an emulated guest).
   */
  readyServices: ServiceStatus[] | undefined;
  /** base_image host: makes (or finds) the host's base tarball and answers its host path. */
  hostBaseImage: (() => Promise<string>) | undefined;
  /** Set by the first step. */
  conn: Connection | undefined;
  signal: AbortSignal | undefined;
  /** Runs argv in the guest on ctx.conn with the signal and command log wired in. */
  exec(argv: readonly string[], opts?: RemoteExecOptions): Promise<RemoteResult>;
  /** Like exec, but any exit code is an answer: true when it is 0. */
  test(argv: readonly string[], opts?: RemoteExecOptions): Promise<boolean>;
  /** Writes a guest file atomically through sudo; the content goes over stdin only. */
  writeFile(path: string, content: string | Buffer, opts: { mode: string; owner: string }): Promise<void>;
  /** The open connection (for SFTP and compose helpers); throws before the SSH step ran. */
  connection(): Connection;
  /** Progress text for the current step (shown by the verbose renderer). */
  progress(text: string): void;
  /** Appends a line to the lab's log file (commands, never secrets). */
  log(line: string): void;
  /** Filled by the probe step. */
  url: string | undefined;
}

/** One runbook entry: `skip` returns the reason it has nothing to do, or false. */
export interface ProvisionStep {
  title: string;
  skip(ctx: ProvisionContext): Promise<string | false>;
  run(ctx: ProvisionContext): Promise<void>;
}
