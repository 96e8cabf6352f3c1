// A result view drawn by the domain's own ES module (a test's): the SKUs closest
// to the depot, as a list, from the view's result table.
export default async function draw(element, { scenario, view, frame }) {
  const body = await frame(0, 1000);
  const rows = body.rows.filter((r) => r.location !== "overflow");
  rows.sort((a, b) => a.distance_m - b.distance_m);
  const title = document.createElement("p");
  title.className = "small";
  title.textContent = `${rows.length} placed SKUs of ${scenario.tag} (table ${view.table}); closest first:`;
  const list = document.createElement("ol");
  list.setAttribute("data-testid", "closest-skus");
  for (const row of rows.slice(0, 5)) {
    const item = document.createElement("li");
    item.textContent = `${row.sku} at ${row.location} (${row.distance_m} m)`;
    list.append(item);
  }
  element.append(title, list);
  return () => element.replaceChildren();
}
