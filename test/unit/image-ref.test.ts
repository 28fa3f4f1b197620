import { describe, expect, it } from 'vitest';
import { judgeBase, latestTags, parseFrom, parseImageRef, resolveArgs } from '../../check/image-ref.js';

// Issue 16, weakness 4: pinned releases were rejected, floating aliases accepted, and "latest" in a
// download URL counted as an image tag.

describe('image references', () => {
  it('splits registry, name, tag and digest as Docker does', () => {
    expect(parseImageRef('debian:bookworm')).toEqual({ name: 'debian', tag: 'bookworm', digest: undefined });
    expect(parseImageRef('docker.io/library/debian:bookworm@sha256:abc')).toEqual({ name: 'debian', tag: 'bookworm', digest: 'sha256:abc' });
    expect(parseImageRef('registry.local:5000/team/nginx')).toEqual({ name: 'team/nginx', tag: undefined, digest: undefined });
    expect(parseImageRef('alpine')).toEqual({ name: 'alpine', tag: undefined, digest: undefined });
  });

  it('reads FROM with flags and a stage name', () => {
    expect(parseFrom('FROM --platform=linux/amd64 debian:bookworm AS build')).toEqual({ image: 'debian:bookworm', stage: 'build' });
    expect(parseFrom('RUN true')).toBeUndefined();
  });

  it('puts in ARG defaults and names the variables it cannot', () => {
    expect(resolveArgs('debian:${SUITE}', new Map([['SUITE', 'bookworm']]))).toEqual({ value: 'debian:bookworm', unresolved: [] });
    expect(resolveArgs('alpine:${V:-3.20}', new Map())).toEqual({ value: 'alpine:3.20', unresolved: [] });
    expect(resolveArgs('debian:$SUITE', new Map())).toEqual({ value: 'debian:', unresolved: ['SUITE'] });
  });

  it.each([
    ['debian:bookworm'], ['debian:bookworm-slim'], ['debian:12'], ['debian:12.10-slim'], ['debian:bookworm-20250407'],
    ['debian:bookworm@sha256:0123abcd'], ['alpine:3.20'], ['alpine:3.21.3'], ['alpine:3.15.0'],
  ])('accepts the pinned base %s', (image) => {
    expect(judgeBase(image, new Set())).toEqual({ ok: true });
  });

  it.each([
    ['debian:oldstable', /floating alias/], ['debian:stable', /floating alias/], ['debian:latest', /floating alias/], ['alpine:latest', /floating alias/],
    ['debian', /no tag/], ['alpine', /no tag/], ['debian:trixie', /penultimate/], ['debian:bullseye', /penultimate/], ['alpine:edge', /floating/],
    ['nginx:1.27', /not debian:bookworm/], ['wordpress:php8.2-fpm', /not debian:bookworm/],
  ])('refuses %s', (image, why) => {
    const verdict = judgeBase(image, new Set());
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.why).toMatch(why);
  });

  it('takes an earlier stage for what it is', () => {
    expect(judgeBase('build', new Set(['build']))).toEqual({ ok: true });
  });

  it('finds name:latest, not the word in a URL or a sentence', () => {
    expect(latestTags('    image: nginx:latest')).toEqual(['nginx:latest']);
    expect(latestTags('docker pull registry.local:5000/team/app:latest && true')).toEqual(['registry.local:5000/team/app:latest']);
    expect(latestTags('RUN curl -O https://wordpress.org/latest.tar.gz')).toEqual([]);
    expect(latestTags('wp core download --version=latest # the latest WordPress')).toEqual([]);
  });
});
