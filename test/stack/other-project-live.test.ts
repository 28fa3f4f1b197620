import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInside, type Remote } from '../../check/live.js';
import type { CheckResult } from '../../check/types.js';
import { labPaths, packageRoot, type LabPaths } from '../../core/paths.js';
import { connect, remoteExec, type Connection } from '../../adapters/guest.js';
import { runProvisioning } from '../../provision/index.js';
import { DEPLOY_STEPS } from '../../provision/steps.js';
import type { DockerdHandle } from '../helpers/dockerd.js';
import { targetLabConfig } from '../helpers/lab-config.js';
import { startBookwormTarget, type SshTargetHandle } from '../helpers/ssh-target.js';

// Live grading of a project that is not labctl's (issue 15): test/fixtures/other-project (services
// web, php and db, no container_name, its own secrets and env names, sh entrypoints) provisioned
// into the sshd + Docker-in-Docker target, then graded by checkInside over SSH as `labctl check`
// does in a VM. Then two rule-breaking edits, each deployed, each failing its own rule id.

const LOGIN = 'kwest';
const FIXTURE = join(packageRoot(), 'test', 'fixtures', 'other-project');
const COMPOSE = join('srcs', 'compose.yaml');

describe("live check of another student's project (sshd + Docker-in-Docker target)", () => {
  let dockerd: DockerdHandle;
  let target: SshTargetHandle;
  let home: string;
  let paths: LabPaths;
  let project: string;
  let conn: Connection;

  const config = () => targetLabConfig({ name: 'other-live', login: LOGIN, project });
  const provision = (steps?: typeof DEPLOY_STEPS) => {
    const output = new PassThrough();
    output.resume();
    return runProvisioning({ config: config(), paths, ssh: target.target, renderer: 'simple', composeDir: project, output, ...(steps ? { steps } : {}) });
  };
  const remote: Remote = async (argv, opts = {}) => {
    const r = await remoteExec(conn, argv, { sudo: true, ...opts });
    return { stdout: r.stdout, code: r.code };
  };
  const grade = async () => checkInside({ config: config(), paths }, remote);
  const verdicts = (results: CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r.verdict]));
  const editCompose = async (edit: (text: string) => string) => {
    const file = join(project, COMPOSE);
    await writeFile(file, edit(await readFile(file, 'utf8')));
  };

  beforeAll(async () => {
    ({ dockerd, target } = await startBookwormTarget('other-live'));
    home = await mkdtemp(join(tmpdir(), 'labctl-other-live-'));
    paths = labPaths('other-live', { LABCTL_HOME: home });
    project = join(home, 'project');
    await cp(FIXTURE, project, { recursive: true });
    const report = await provision();
    expect(report.steps.find((s) => s.title === 'Build and start the stack (make)')?.status).toBe('ran');
    conn = await connect(target.target);
  }, 1_800_000);

  afterAll(async () => {
    conn?.dispose();
    await target?.stop();
    if (home) await rm(home, { recursive: true, force: true });
    await dockerd?.stop();
  });

  it('grades web, php and db under the role ids, each verdict the one its files and containers deserve', async () => {
    const results = await grade();
    const v = verdicts(results);
    // The three roles are found through PID 1 and the compose labels, not through labctl's names.
    for (const id of ['M02.running-nginx', 'M02.running-wordpress', 'M02.running-mariadb']) expect(v[id], id).toBe('pass');
    expect(results.find((r) => r.id === 'M02.running-mariadb')?.reason).toMatch(/service db/);
    for (const service of ['web', 'php', 'db']) {
      expect(v[`M10.live-pid1-${service}`], `M10.live-pid1-${service}`).toBe('pass');
      expect(v[`M04.live-image-${service}`], `M04.live-image-${service}`).toBe('pass');
      expect(v[`M09.live-restart-${service}`], `M09.live-restart-${service}`).toBe('pass');
      expect(v[`M08.live-network-${service}`], `M08.live-network-${service}`).toBe('pass');
    }
    expect(results.find((r) => r.id === 'M05.live-published')).toMatchObject({ verdict: 'pass', reason: 'only web:443 is published' });
    expect(v['M06.live-no-nginx-wordpress']).toBe('pass');
    expect(v['M06.live-no-nginx-mariadb']).toBe('pass');
    expect(v['M07.live-mount-mariadb']).toBe('pass');
    expect(v['M07.live-two-volumes']).toBe('pass');
    expect(v['M07.live-volume-dbdata']).toBe('pass');
    expect(v['M07.live-volume-sitefiles']).toBe('pass');
    // Its passwords are the ones its make wrote in the VM; none shows in inspect or history.
    expect(v['M12.no-leak-docker-inspect']).toBe('pass');
    expect(v['M12.no-leak-docker-history']).toBe('pass');
    // The fixture serves one PHP page, not WordPress: root gets in with the db_root_pw secret, and
    // the database has no WordPress tables, which is a failure, not a pass and not a skip.
    expect(results.find((r) => r.id === 'M11.db-not-empty')).toMatchObject({ verdict: 'fail', reason: 'no WordPress tables in the database' });
  }, 300_000);

  it('publishing 3306 on db, deployed, fails M05.live-published naming db:3306', async () => {
    await editCompose((t) => t.replace('    networks:\n      - backend\n\n  php:', '    ports:\n      - "3306:3306"\n    networks:\n      - backend\n\n  php:'));
    await provision(DEPLOY_STEPS);
    const published = (await grade()).find((r) => r.id === 'M05.live-published');
    expect(published).toMatchObject({ verdict: 'fail', reason: expect.stringContaining('db:3306->3306/tcp') });
  }, 600_000);

  it('tail -f as the web command (its healthcheck made to pass), deployed, fails M10.live-pid1-web; the role is still found by its name', async () => {
    await editCompose((t) => t.replace('    ports:\n      - "3306:3306"\n', '').replace('    restart: always\n', '    restart: always\n    command: ["tail", "-f", "/dev/null"]\n    healthcheck:\n      test: ["CMD", "true"]\n'));
    await provision(DEPLOY_STEPS);
    const results = await grade();
    expect(results.find((r) => r.id === 'M10.live-pid1-web')).toMatchObject({ verdict: 'fail', reason: expect.stringMatching(/only waits: tail -f \/dev\/null/) });
    expect(results.find((r) => r.id === 'M05.live-published')?.verdict).toBe('pass');
    expect(results.find((r) => r.id === 'M02.running-nginx')).toMatchObject({ verdict: 'pass', reason: expect.stringMatching(/service web, named web/) });
  }, 600_000);
});
