// Templates are embedded into the binary as text (import attribute `type: "text"`).
declare module "*.sh" {
  const text: string;
  export default text;
}

declare module "*.eta" {
  const text: string;
  export default text;
}

declare module "*.css" {
  const text: string;
  export default text;
}

declare module "*.js" {
  const text: string;
  export default text;
}
