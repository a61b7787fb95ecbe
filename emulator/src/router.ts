// Matches requests to routes the way Resource Manager does: by segment, case-insensitively.
import type { HttpMethod, Route } from './types.js'

interface CompiledRoute {
  route: Route
  segments: string[]
}

interface RouteMatch {
  route: Route
  params: Record<string, string>
}

/** Resource Manager treats names (subscriptions, groups, resources, ids) case-insensitively. */
export const sameText = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase()

export function pathSegments(path: string): string[] {
  return path.split('/').filter((segment) => segment.length > 0)
}

function matchSegments(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined
  const params: Record<string, string> = {}
  for (let index = 0; index < pattern.length; index++) {
    const expected = pattern[index]
    if (expected.startsWith(':')) params[expected.slice(1)] = decodeURIComponent(actual[index])
    else if (expected.toLowerCase() !== actual[index].toLowerCase()) return undefined
  }
  return params
}

export class Router {
  private compiled: CompiledRoute[] = []

  constructor(routes: Route[] = []) {
    this.replace(routes)
  }

  replace(routes: Route[]): void {
    this.compiled = routes.map((route) => ({ route, segments: pathSegments(route.pattern) }))
  }

  routes(): Route[] {
    return this.compiled.map(({ route }) => route)
  }

  /** Literal routes win over parameterised ones, so `/subscriptions/:id` never shadows `/tenants`. */
  match(method: HttpMethod, path: string): RouteMatch | undefined {
    const actual = pathSegments(path)
    let best: { match: RouteMatch; literals: number } | undefined
    for (const { route, segments } of this.compiled) {
      if (route.method !== method) continue
      const params = matchSegments(segments, actual)
      if (!params) continue
      const literals = segments.filter((segment) => !segment.startsWith(':')).length
      if (!best || literals > best.literals) best = { match: { route, params }, literals }
    }
    return best?.match
  }
}
