import { describe, expect, it } from 'vitest';
import { goalStartsStack, parseMakefile } from '../../check/makefile.js';

// Issue 16, weakness 6: M01 took the first target's name for "the default target builds and
// starts everything". Each Makefile is of a kind found in students' projects.

const reach = (text: string) => {
  const mk = parseMakefile(text);
  return { goal: mk.defaultGoal, ...goalStartsStack(mk, mk.defaultGoal ?? '') };
};

describe('the Makefile default goal', () => {
  it.each([
    ['up in its own recipe', 'NAME = inception\nall:\n\tdocker compose -f srcs/docker-compose.yml up -d --build\n', 'all'],
    ['through a prerequisite and a variable', 'COMPOSE := docker compose -f srcs/docker-compose.yml\n\nall: build up\n\nbuild:\n\t$(COMPOSE) build\n\nup:\n\t@$(COMPOSE) up -d\n', 'all'],
    ['through $(MAKE)', 'all:\n\t@mkdir -p /home/x/data\n\t@$(MAKE) --no-print-directory start\nstart:\n\tdocker-compose -f srcs/docker-compose.yml up -d\n', 'all'],
    ['.PHONY and variables before the first rule', '.PHONY: all clean\nDC = docker compose\nall:\n\t$(DC) -f srcs/docker-compose.yml up --build -d\nclean:\n\t$(DC) down\n', 'all'],
  ])('starts the stack: %s', (_label, text, goal) => {
    expect(reach(text)).toMatchObject({ goal, starts: true });
  });

  it.each([
    ['.DEFAULT_GOAL := help', '.DEFAULT_GOAL := help\nall:\n\tdocker compose up -d\nhelp:\n\t@echo "make all | make down"\n', 'help'],
    ['a default target that only makes folders', 'dirs:\n\tmkdir -p /home/x/data/wordpress /home/x/data/mariadb\nall: dirs\n\tdocker compose up -d\n', 'dirs'],
    ['down first', 'down:\n\tdocker compose -f srcs/docker-compose.yml down\nup:\n\tdocker compose -f srcs/docker-compose.yml up -d\n', 'down'],
  ])('does not start the stack: %s', (_label, text, goal) => {
    expect(reach(text)).toMatchObject({ goal, starts: false });
  });

  it('stops on a target that depends on itself', () => {
    expect(reach('all: all\n\techo loop\n')).toMatchObject({ starts: false, visited: ['all'] });
  });
});
