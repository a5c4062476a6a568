import { renderTabTable } from './tab-table';

// calicoctl's `get` tables: Go's tabwriter (minwidth 5, padding 3), every cell padded,
// the last one included, so lines carry trailing spaces exactly as calicoctl's do.
describe('renderTabTable', () => {
  it('lays out the documented `get ippools` table', () => {
    expect(renderTabTable(['NAME', 'CIDR', 'SELECTOR'], [['default-ipv4-ippool', '192.168.0.0/16', 'all()']])).toBe(
      'NAME                  CIDR             SELECTOR   \n' + 'default-ipv4-ippool   192.168.0.0/16   all()      \n',
    );
  });

  it('lays out the documented wide table', () => {
    const text = renderTabTable(
      ['NAME', 'CIDR', 'NAT', 'IPIPMODE', 'VXLANMODE', 'DISABLED'],
      [['default-ipv4-ippool', '192.168.0.0/16', 'true', 'Always', 'Never', 'false']],
    );
    expect(text.split('\n').map((l) => l.trimEnd())).toEqual([
      'NAME                  CIDR             NAT    IPIPMODE   VXLANMODE   DISABLED',
      'default-ipv4-ippool   192.168.0.0/16   true   Always     Never       false',
      '',
    ]);
  });

  it('keeps columns at least five characters wide', () => {
    expect(renderTabTable(['A', 'B'], [['x', 'y']])).toBe('A    B    \nx    y    \n');
  });

  it('prints only the headings when there are no rows', () => {
    expect(renderTabTable(['NAME'], [])).toBe('NAME   \n');
  });
});
