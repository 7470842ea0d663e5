// What kind of file a person is about to send, by extension: the exchanges are statistical
// states (.xls, .csv, .pdf, .doc and equivalents), so anything else deserves a second look, and
// documents able to carry macros deserve a clear warning (they are a classic infection route).

export type FileRisk = 'usual' | 'unusual' | 'macro' | 'executable';

const USUAL = new Set([
  'xls', 'xlsx', 'csv', 'pdf', 'doc', 'docx', 'odt', 'ods', 'odp', 'xml', 'txt', 'rtf', 'json',
  'ppt', 'pptx', 'png', 'jpg', 'jpeg', 'zip', 'geojson', 'shp', 'dbf', 'shx', 'prj',
]);
const MACRO = new Set(['xlsm', 'xltm', 'xlam', 'xlsb', 'docm', 'dotm', 'pptm', 'potm', 'ppam', 'ppsm', 'sldm']);
const EXECUTABLE = new Set([
  'exe', 'com', 'bat', 'cmd', 'msi', 'scr', 'ps1', 'vbs', 'vbe', 'js', 'jse', 'wsf', 'hta', 'jar',
  'lnk', 'sh', 'appimage', 'deb', 'dll', 'reg', 'iso', 'img',
]);

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

export function fileRisk(name: string): FileRisk {
  const extension = extensionOf(name);
  if (MACRO.has(extension)) return 'macro';
  if (EXECUTABLE.has(extension)) return 'executable';
  if (USUAL.has(extension)) return 'usual';
  return 'unusual';
}
