import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSummaryText } from '../../cli/class-results.js';
import { loadClass } from '../../core/class-file.js';
import { planClass } from '../../core/class-plan.js';
import { createArgs, type ClassCreateReport } from '../../usecases/class-create.js';
import { CLASS_STUDENTS, classBenchInputs, sequentialCreateArgv, summaryRows, type ClassroomFacts } from '../bench/class-inputs.js';
import { tempDir } from '../helpers/temp.js';

// The bench's `class` group on paper: the class file it writes is one labctl reads and plans as the
// group expects, its baseline creates the very labs class create would (only host and address
// differ), and the per-student times are read back from the table class create prints.

const FACTS: ClassroomFacts = {
  address: (octet) => `10.253.7.${octet}`,
  firstFree: 100,
  uris: ['qemu+ssh://root@10.253.7.11/system', 'qemu+ssh://root@10.253.7.12/system'],
  bridge: 'lan0',
  box: 'labctl/trixie-baked',
  project: resolve(import.meta.dirname, '..', 'fixtures', 'class-tiny'),
};

async function writtenClass() {
  const inputs = classBenchInputs(FACTS);
  const dir = await tempDir('labctl-bench-class-');
  await writeFile(join(dir, 'roster.csv'), inputs.rosterCsv);
  await writeFile(join(dir, 'class.yaml'), inputs.classYaml);
  const spec = await loadClass(join(dir, 'class.yaml'));
  return { inputs, spec, plan: planClass(spec, new Map()) };
}

describe('bench class group: inputs', () => {
  it('writes a class file labctl reads: 3 students, host-1 taking 2 and host-2 taking 1, each at an address of its own host', async () => {
    const { spec, plan } = await writtenClass();
    expect(spec.roster.map((s) => s.login)).toEqual([...CLASS_STUDENTS]);
    expect(spec.settings).toMatchObject({ box: FACTS.box, project: FACTS.project, memoryMiB: 1536, cpus: 1, libvirtDriver: 'qemu' });
    expect(spec.hosts.map((h) => [h.name, h.uri, h.capacity, h.bridge])).toEqual([
      ['host-1', FACTS.uris[0], 2, 'lan0'],
      ['host-2', FACTS.uris[1], 1, 'lan0'],
    ]);
    expect(plan.unplaced).toEqual([]);
    expect(plan.labs.filter((l) => l.host === 'host-1')).toHaveLength(2);
    expect(plan.labs.filter((l) => l.host === 'host-2')).toHaveLength(1);
    for (const lab of plan.labs) expect(spec.hosts.find((h) => h.name === lab.host)?.addresses).toContain(lab.ip);
  });

  it("gives the baseline's labs addresses on the LAN that no class lab can have", async () => {
    const { inputs, spec } = await writtenClass();
    const classAddresses = spec.hosts.flatMap((h) => h.addresses);
    expect(inputs.sequential.map((l) => l.login)).toEqual([...CLASS_STUDENTS]);
    expect(new Set(inputs.sequential.map((l) => l.ip)).size).toBe(CLASS_STUDENTS.length);
    for (const lab of inputs.sequential) {
      expect(lab.ip).toMatch(/^10\.253\.7\.\d+$/);
      expect(classAddresses).not.toContain(lab.ip);
    }
  });

  it("runs each baseline lab with the very line class create gives that student's child, on host 1", async () => {
    const { inputs, spec, plan } = await writtenClass();
    for (const lab of inputs.sequential) {
      const planned = plan.labs.find((l) => l.login === lab.login);
      if (planned === undefined) throw new Error(`${lab.login} not planned`);
      const onHost1 = { ...planned, host: 'host-1', uri: FACTS.uris[0] ?? '', ip: lab.ip };
      expect(sequentialCreateArgv(FACTS, lab, FACTS.uris[0] ?? '')).toEqual(createArgs(spec, onHost1));
    }
  });

  it('refuses a classroom with another number of hosts', () => {
    expect(() => classBenchInputs({ ...FACTS, uris: [FACTS.uris[0] ?? ''] })).toThrow(/needs 2 host URIs, got 1/);
  });
});

describe('bench class group: the summary table read back', () => {
  const report: ClassCreateReport = {
    className: 'bench-class',
    seconds: 1234.4,
    students: [
      { login: 'alice', host: 'host-1', ip: '10.253.7.100', domain: 'alice.42.fr', outcome: 'created', seconds: 1101.4 },
      { login: 'bob', host: 'host-1', ip: '10.253.7.101', domain: 'bob.42.fr', outcome: 'ready', seconds: undefined },
      {
        login: 'carol',
        host: 'host-2',
        ip: '10.253.7.110',
        domain: 'carol.42.fr',
        outcome: 'failed',
        seconds: 61.6,
        error: 'host host-2 (qemu+ssh://root@10.253.7.12/system) cannot be reached: virsh said the connection was refused by the daemon, twice in a row',
      },
    ],
  };

  it("takes each student's host, outcome and seconds from the table class create prints, wrapped cells and all", () => {
    const text = createSummaryText(report);
    // The error is long enough to wrap: carol's row spans several lines.
    expect(text.split('\n').filter((l) => l.includes('│')).length).toBeGreaterThan(1 + report.students.length);
    expect(summaryRows(text, CLASS_STUDENTS)).toEqual([
      { login: 'alice', host: 'host-1', outcome: 'created', seconds: 1101 },
      { login: 'bob', host: 'host-1', outcome: 'ready', seconds: undefined },
      { login: 'carol', host: 'host-2', outcome: 'failed', seconds: 62 },
    ]);
  });

  it('finds no row in output without the table (class create stopped before it)', () => {
    expect(summaryRows('labctl: class file class.yaml: hosts[1].uri …\n', CLASS_STUDENTS)).toEqual([]);
    expect(summaryRows(createSummaryText(report), ['dave'])).toEqual([]);
  });
});
