import { parse } from 'csv-parse/sync';
import { RESERVED_LAB_NAMES, validateName } from './config.js';
import { ConfigError, shorten } from './errors.js';

// A class roster: the CSV a school's intranet or a spreadsheet exports, one student a line,
// `login[,name,email]`, with or without a header line. The login is the student's 42 login: it
// becomes the lab's name, its domain (<login>.42.fr) and a user in the VM, so it is held to the same
// rules as `labctl create --login`. Errors name the file and the line, as an editor shows it.

export interface Student {
  login: string;
  name?: string;
  email?: string;
  /** The line of the roster file the student is on (1-based), for messages. */
  line: number;
}

export const ROSTER_COLUMNS = ['login', 'name', 'email'] as const;
type Column = (typeof ROSTER_COLUMNS)[number];

/** A school has a few hundred students a year; ten times that is a file that is not a roster. */
export const MAX_STUDENTS = 2000;
const MAX_NAME_LENGTH = 100;
const MAX_EMAIL_LENGTH = 254;
const EMAIL_SHAPE = /^[^\s@"<>,;]+@[^\s@"<>,;]+\.[^\s@"<>,;]+$/;
// eslint-disable-next-line no-control-regex -- a name or e-mail with a control character (a line break in quotes) would break tables and sheets
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

/** The students of a roster's text; `file` names it in errors. */
export function parseRoster(text: string, file: string): Student[] {
  const records = readRecords(text, file);
  const first = records[0];
  // A header names the login column; no login is "login" (no student is called that by their school).
  const header = first !== undefined && first.cells.some((cell) => cell.toLowerCase() === 'login') ? headerColumns(first, file) : undefined;
  const rows = header === undefined ? records : records.slice(1);
  const students: Student[] = [];
  const lineOf = new Map<string, number>();
  for (const row of rows) {
    if (students.length >= MAX_STUDENTS) throw new ConfigError(`${file}:${row.line}`, `more than ${MAX_STUDENTS} students`, 'split the class into several class files');
    const student = studentOf(row, header ?? ROSTER_COLUMNS, file);
    const twice = lineOf.get(student.login);
    if (twice !== undefined) {
      throw new ConfigError(`${file}:${row.line}`, `login "${student.login}" is also on line ${twice}`, 'keep one line per student (each login gets one lab)');
    }
    lineOf.set(student.login, row.line);
    students.push(student);
  }
  if (students.length === 0) throw new ConfigError(file, 'has no students', 'write one student a line: login[,name,email] (a header line "login,name,email" is optional)');
  return students;
}

interface Row {
  cells: string[];
  /** Where the record starts. */
  line: number;
}

function readRecords(text: string, file: string): Row[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    // With `info`, each record comes with where it was read; csv-parse's types do not follow that option.
    records = parse(text, { bom: true, info: true, skip_empty_lines: true, relax_column_count: true, trim: true }) as unknown as typeof records;
  } catch (error) {
    const e = error as Error & { lines?: number };
    const line = typeof e.lines === 'number' ? `:${e.lines}` : '';
    throw new ConfigError(`${file}${line}`, `is not valid CSV (${e.message.split('\n')[0] ?? 'parse error'})`, 'quote a name that holds a comma with double quotes, and close every quote on its line');
  }
  // csv-parse counts the line a record ends on; a quoted field may span lines, so count back.
  return records
    .map(({ record, info }) => ({ cells: record, line: info.lines - record.reduce((n, cell) => n + (cell.match(/\n/g)?.length ?? 0), 0) }))
    // A line of bare commas (a spreadsheet's empty row) is blank too.
    .filter((row) => row.cells.some((cell) => cell !== ''));
}

function headerColumns(row: Row, file: string): Column[] {
  const columns = row.cells.map((cell) => cell.toLowerCase());
  for (const [i, column] of columns.entries()) {
    if (!(ROSTER_COLUMNS as readonly string[]).includes(column)) {
      throw new ConfigError(`${file}:${row.line}`, `header column ${i + 1} "${shorten(row.cells[i] ?? '')}" is not one of ${ROSTER_COLUMNS.join(', ')}`, 'name the columns login, name and email, or leave the header line out');
    }
    if (columns.indexOf(column) !== i) throw new ConfigError(`${file}:${row.line}`, `header column "${column}" is there twice`, 'name each column once');
  }
  return columns as Column[];
}

function studentOf(row: Row, columns: readonly Column[], file: string): Student {
  const where = `${file}:${row.line}`;
  if (row.cells.length > columns.length) {
    throw new ConfigError(where, `has ${row.cells.length} fields, the roster has ${columns.length} (${columns.join(',')})`, 'quote a name that holds a comma with double quotes: jdoe,"Doe, Jane",jdoe@example.org');
  }
  const cell = (column: Column): string | undefined => {
    const i = columns.indexOf(column);
    const value = i < 0 ? undefined : row.cells[i];
    return value === undefined || value === '' ? undefined : value;
  };
  const login = cell('login');
  if (login === undefined) throw new ConfigError(where, 'has no login', 'put the student\'s 42 login first on the line: login[,name,email]');
  try {
    validateName(login, 'login');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError(where, `login ${error.message.slice(error.field.length + 2)}`, error.hint ?? 'use the student\'s 42 login');
  }
  if (RESERVED_LAB_NAMES.includes(login)) throw new ConfigError(where, `login "${login}" is the name of a labctl folder, so it cannot name a lab`, 'create this student\'s lab by hand with another name (labctl create NAME --login …)');
  const name = cell('name');
  const email = cell('email');
  if (name !== undefined && (CONTROL_CHARACTER.test(name) || name.length > MAX_NAME_LENGTH)) {
    throw new ConfigError(where, `name "${shorten(name.replace(/\s+/g, ' '))}" is ${name.length > MAX_NAME_LENGTH ? 'too long' : 'on several lines'}`, `give the name on one line, at most ${MAX_NAME_LENGTH} characters`);
  }
  if (email !== undefined && (!EMAIL_SHAPE.test(email) || email.length > MAX_EMAIL_LENGTH)) {
    throw new ConfigError(where, `email "${shorten(email)}" is not an e-mail address`, 'give an address such as jdoe@student.42.fr, or leave the field empty');
  }
  return { login, ...(name === undefined ? {} : { name }), ...(email === undefined ? {} : { email }), line: row.line };
}
