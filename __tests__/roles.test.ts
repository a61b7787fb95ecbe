// The custom roles in roles/ against the code: every Resource Manager action src/ names (as the
// permission a call needs) is in the deployer role, so a new call cannot drift past the role
// unnoticed. e2e/least-privilege.test.ts proves the role enough and each of its actions needed.
import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'

const root = path.resolve(import.meta.dirname, '..')

const roleFiles = [
  'adf-pg-private-link.json',
  'adf-pg-private-link-plan.json',
  'adf-pg-private-link-data-team.json',
  'adf-pg-private-link-dba.json'
]

function readRole(file: string): Record<string, unknown> & { Actions: string[] } {
  return JSON.parse(readFileSync(path.join(root, 'roles', file), 'utf8')) as Record<
    string,
    unknown
  > & { Actions: string[] }
}

function actionsOf(file: string): string[] {
  return readRole(file).Actions
}

/** Every quoted 'Microsoft.<Provider>/…' string in the TypeScript files under `dir` (no templates). */
function actionsNamedIn(dir: string): string[] {
  const named: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const text = readFileSync(path.join(entry.parentPath, entry.name), 'utf8')
    // An action ends in its operation; a bare resource type (a Git file's `type`) is no action.
    for (const match of text.matchAll(
      /'(Microsoft\.[A-Za-z]+\/[^'$]+\/(?:read|write|delete|action))'/g
    ))
      named.push(match[1])
  }
  return [...new Set(named)]
}

const lower = (actions: string[]) => actions.map((action) => action.toLowerCase())

describe('roles', () => {
  const deployer = actionsOf('adf-pg-private-link.json')

  it.each(roleFiles)(
    '%s is a custom role as az role definition create takes it: named actions, no wildcards',
    (file) => {
      const role = readRole(file)
      expect(Object.keys(role).sort()).toEqual(
        [
          'Actions',
          'AssignableScopes',
          'DataActions',
          'Description',
          'IsCustom',
          'Name',
          'NotActions',
          'NotDataActions'
        ].sort()
      )
      expect(role).toMatchObject({ IsCustom: true, NotActions: [], DataActions: [] })
      expect(new Set(lower(role.Actions)).size).toBe(role.Actions.length)
      expect(role.Actions.filter((action) => action.includes('*'))).toEqual([])
    }
  )

  it('holds every action the code names (Azure compares action names case-insensitively)', () => {
    const named = actionsNamedIn(path.join(root, 'src'))
    expect(named.length).toBeGreaterThan(15)
    const missing = named.filter((action) => !lower(deployer).includes(action.toLowerCase()))
    expect(missing).toEqual([])
  })

  it('gives the planner only reads the deployer has', () => {
    const planner = actionsOf('adf-pg-private-link-plan.json')
    expect(planner.filter((action) => !action.endsWith('/read'))).toEqual([])
    expect(lower(deployer)).toEqual(expect.arrayContaining(lower(planner)))
  })

  const approving = [
    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/write',
    'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnectionsApproval/action'
  ]

  it("gives the data team the deployer's actions except approving", () => {
    const team = actionsOf('adf-pg-private-link-data-team.json')
    expect(lower(team).sort()).toEqual(
      lower(deployer.filter((action) => !approving.includes(action))).sort()
    )
  })

  it('gives the DBA only the server reads and the approval, all in the deployer role', () => {
    const dba = actionsOf('adf-pg-private-link-dba.json')
    expect(dba.sort()).toEqual(
      [
        'Microsoft.DBforPostgreSQL/flexibleServers/read',
        'Microsoft.DBforPostgreSQL/flexibleServers/privateEndpointConnections/read',
        ...approving
      ].sort()
    )
    expect(lower(deployer)).toEqual(expect.arrayContaining(lower(dba)))
  })
})
