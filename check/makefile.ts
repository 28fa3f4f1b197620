// Enough of a Makefile to answer M01's "the default target builds and starts everything": which
// goal `make` runs with no argument (.DEFAULT_GOAL, else the first ordinary target), and whether
// that goal, its prerequisites or the goals it hands to $(MAKE), run `docker compose … up`.

export interface MakeRule {
  targets: string[];
  prerequisites: string[];
  recipe: string[];
}

export interface Makefile {
  rules: MakeRule[];
  variables: Map<string, string>;
  defaultGoal: string | undefined;
}

const ASSIGNMENT = /^(?:export\s+|override\s+)?(\.?[A-Za-z_][\w.-]*)\s*(?:[:?+!]?=|::=)\s*(.*)$/;
const RULE = /^([^\s:=#][^:=#]*?)\s*::?(?!=)\s*([^;#]*)(?:;(.*))?$/;

export function parseMakefile(text: string): Makefile {
  const lines = text.replace(/\\\r?\n/g, ' ').split('\n');
  const rules: MakeRule[] = [];
  const variables = new Map<string, string>();
  let explicitGoal: string | undefined;
  let current: MakeRule | undefined;
  for (const line of lines) {
    if (line.startsWith('\t')) {
      current?.recipe.push(line.slice(1).trim());
      continue;
    }
    const code = line.replace(/(^|\s)#.*$/, '').trimEnd();
    if (code.trim() === '' || /^\s*(ifeq|ifneq|ifdef|ifndef|else|endif|include|-include|define|endef|\$\((?:info|warning|error|eval|call)\b)/.test(code)) continue;
    const assign = ASSIGNMENT.exec(code.trim());
    if (assign && !/^[^=]*:(?!=)/.test(code.replace(/:=|::=/, ''))) {
      const [, name = '', value = ''] = assign;
      if (name === '.DEFAULT_GOAL') explicitGoal = value.trim();
      else if (code.includes('+=')) variables.set(name, `${variables.get(name) ?? ''} ${value}`.trim());
      else variables.set(name, value.trim());
      current = undefined;
      continue;
    }
    const rule = RULE.exec(code);
    if (rule) {
      current = { targets: (rule[1] ?? '').trim().split(/\s+/), prerequisites: (rule[2] ?? '').replace(/\|/g, ' ').trim().split(/\s+/).filter(Boolean), recipe: rule[3] ? [rule[3].trim()] : [] };
      rules.push(current);
    }
  }
  // Targets are expanded as make reads them ($(NAME): … is a common first rule).
  for (const rule of rules) rule.targets = rule.targets.flatMap((t) => expand(t, variables).split(/\s+/)).filter(Boolean);
  const first = rules.flatMap((r) => r.targets).find((t) => !t.startsWith('.') && !t.includes('%') && !t.includes('$'));
  return { rules, variables, defaultGoal: explicitGoal === undefined ? first : expand(explicitGoal, variables) };
}

/** $(VAR) and ${VAR} replaced by their values, a few levels deep (functions are left as they are). */
function expand(text: string, variables: ReadonlyMap<string, string>, depth = 0): string {
  if (depth > 5) return text;
  const out = text.replace(/\$[({]([A-Za-z_][\w.-]*)[)}]/g, (m, name: string) => variables.get(name) ?? m);
  return out === text ? out : expand(out, variables, depth + 1);
}

export interface GoalReach {
  starts: boolean;
  /** The recipe line that starts the stack, or what the goal does instead. */
  evidence: string;
  /** The goals looked at, in order. */
  visited: string[];
}

const COMPOSE_UP = /\bdocker(-compose|\s+compose)\b.*\s(up|start)\b|\bdocker\s+(run|start)\b/;
const SUB_MAKE = /\$\((MAKE)\)|\bmake\b/;

/** Does `goal` (through prerequisites and sub-makes, bounded) run `docker compose up`? */
export function goalStartsStack(mk: Makefile, goal: string, limit = 40): GoalReach {
  const visited: string[] = [];
  const queue = [goal];
  const lines: string[] = [];
  while (queue.length > 0 && visited.length < limit) {
    const target = queue.shift() ?? '';
    if (visited.includes(target)) continue;
    visited.push(target);
    for (const rule of mk.rules.filter((r) => r.targets.includes(target))) {
      queue.push(...rule.prerequisites.map((p) => expand(p, mk.variables)).flatMap((p) => p.split(/\s+/)).filter(Boolean));
      for (const raw of rule.recipe) {
        const line = expand(raw, mk.variables);
        lines.push(line);
        // Printed, not run: a help target that shows the command.
        if (/^[@+-]*\s*(echo|printf)\b/.test(raw)) continue;
        if (COMPOSE_UP.test(line)) return { starts: true, evidence: raw.replace(/^[@-]+/, ''), visited };
        if (SUB_MAKE.test(raw)) {
          const goals = line.replace(/.*\bmake\b/, '').split(/\s+/).filter((w) => w !== '' && !w.startsWith('-') && !w.includes('='));
          queue.push(...goals);
        }
      }
    }
  }
  return { starts: false, evidence: lines.length > 0 ? `it runs: ${lines.slice(0, 2).join('; ').slice(0, 120)}` : 'it has no recipe', visited };
}
