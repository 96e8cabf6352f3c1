// What the create forms (a scenario, an experiment) load before they can be filled:
// the session's algorithms and datasets, and the chosen ones' parameters.
import { useEffect, useState } from "../vendor/htm-preact/standalone.module.js";
import { api, listOf } from "./api.js";
import { initialValue } from "./params.js";

/**
 * The algorithms and datasets of the session at `base`, each with the one chosen
 * (the first until the planner picks another). A failed read goes to `onError`.
 */
export function useChoices(base, onError) {
  const [algorithms, setAlgorithms] = useState([]);
  const [datasets, setDatasets] = useState([]);
  const [algo, setAlgo] = useState("");
  const [dataset, setDataset] = useState("");
  useEffect(() => {
    api.get(`${base}/algorithms`).then((b) => {
      const names = listOf(b, "algorithms").map((a) => (typeof a === "string" ? a : a.name));
      setAlgorithms(names);
      setAlgo((old) => old || names[0] || "");
    }, (e) => onError(e.message));
    api.get(`${base}/data`).then((b) => {
      const keys = listOf(b, "keys");
      setDatasets(keys);
      setDataset((old) => old || keys[0] || "");
    }, (e) => onError(e.message));
  }, [base]);
  return { algorithms, algo, setAlgo, datasets, dataset, setDataset };
}

/**
 * The parameter descriptors at `url` (none while `url` is null) and the form's
 * values for them. When `url` changes, an answer still coming for the old one is
 * dropped, not drawn over the new one's; `ready` says the descriptors are `url`'s.
 */
export function useParameters(url) {
  const [params, setParams] = useState([]);
  const [values, setValues] = useState({});
  const [error, setError] = useState(null);
  const [loaded, setLoaded] = useState(null);
  useEffect(() => {
    setParams([]);
    setError(null);
    if (!url) return undefined;
    let live = true;
    api.get(url).then((b) => {
      if (!live) return;
      const list = listOf(b, "parameters");
      setParams(list);
      setValues(Object.fromEntries(list.map((p) => [p.name, initialValue(p)])));
      setLoaded(url);
    }, (e) => live && setError(e.message));
    return () => {
      live = false;
    };
  }, [url]);
  return { params, values, setValues, error, ready: url !== null && loaded === url };
}
