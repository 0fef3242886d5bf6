//! The aggregate convention: an exported resource with a constructor, `add` and `finish`
//! (optionally `merge`, `serialize` with `deserialize`, `remove`, and `add-batch`) becomes an
//! aggregate.
//! Pure: the runtime describes each resource's methods as [`MethodSig`]s, and
//! [`AggregateShape::check`] says whether they fit, or which method is missing or mistyped.

use super::WitType;

/// A parameter or result of a resource function: a handle of the resource itself, or a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// `own<R>` of this resource.
    Own,
    /// `borrow<R>` of this resource (a method's `self`).
    Borrow,
    /// Any other type (another resource's handle is `WitType::Unsupported`).
    Value(WitType),
}

/// How a resource function is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    Constructor,
    Method,
    Static,
}

/// One function of an exported resource: `[constructor]r`, `[method]r.m`, `[static]r.m`.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodSig {
    pub kind: MethodKind,
    /// The method's name (`add`); empty for the constructor.
    pub name: String,
    pub params: Vec<(String, Slot)>,
    pub result: Option<Slot>,
}

/// What an aggregate resource offers, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateShape {
    /// `add`'s parameters after `self`: the aggregate's arguments.
    pub args: Vec<(String, WitType)>,
    /// `finish`'s result: the aggregate's result (an option's none is NULL).
    pub result: WitType,
    /// `merge(other: own<r>)`: partial states combine (`COMBINEFUNC`).
    pub merge: bool,
    /// `serialize` and `deserialize`: states cross processes (`SERIALFUNC`/`DESERIALFUNC`).
    pub serial: bool,
    /// `remove`, the inverse of `add`: moving window frames (`MSFUNC`/`MINVFUNC`).
    pub remove: bool,
    /// `add-batch(rows: list<T>)`, `add` of several rows in one call: `T` is `add`'s parameter,
    /// or the tuple of its parameters when it has several.
    pub batch: bool,
}

/// The element type of `add-batch`'s list for `add`'s parameters `args`.
pub fn batch_row(args: &[(String, WitType)]) -> WitType {
    match args {
        [(_, t)] => t.clone(),
        _ => WitType::Tuple(args.iter().map(|(_, t)| t.clone()).collect()),
    }
}

fn bytes() -> WitType {
    WitType::List(Box::new(WitType::U8))
}

/// The parameters of a method after `self`, as values; `Err` when `self` is missing or
/// another parameter is a handle.
fn value_params(m: &MethodSig) -> Result<Vec<(String, WitType)>, String> {
    match m.params.first() {
        Some((_, Slot::Borrow)) => {}
        _ => return Err(format!("method {} must be a method (take self)", m.name)),
    }
    m.params[1..]
        .iter()
        .map(|(n, s)| match s {
            Slot::Value(t) if !matches!(t, WitType::Unsupported(_)) => Ok((n.clone(), t.clone())),
            _ => Err(format!(
                "method {}: parameter {n} is a resource handle, which has no SQL form",
                m.name
            )),
        })
        .collect()
}

impl AggregateShape {
    /// Check the functions of resource `resource` against the convention.
    pub fn check(resource: &str, methods: &[MethodSig]) -> Result<Self, String> {
        let find = |kind: MethodKind, name: &str| {
            methods.iter().find(|m| m.kind == kind && m.name == name)
        };
        let needs = |what: &str| {
            format!(
                "resource {resource} has no {what}: an aggregate resource has constructor(), \
                 add: func(…), finish: func() -> T, and optionally merge, serialize with \
                 deserialize, remove, and add-batch"
            )
        };
        let ctor = find(MethodKind::Constructor, "").ok_or_else(|| needs("constructor"))?;
        if !ctor.params.is_empty() {
            return Err(format!(
                "resource {resource}: its constructor takes parameters, but an aggregate's state starts empty (constructor())"
            ));
        }
        let add = find(MethodKind::Method, "add").ok_or_else(|| needs("method add"))?;
        let args = value_params(add).map_err(|e| format!("resource {resource}: {e}"))?;
        if add.result.is_some() {
            return Err(format!(
                "resource {resource}: method add must return nothing"
            ));
        }
        let finish = find(MethodKind::Method, "finish").ok_or_else(|| needs("method finish"))?;
        let result = match (&finish.params[..], &finish.result) {
            ([(_, Slot::Borrow)], Some(Slot::Value(t)))
                if !matches!(t, WitType::Unsupported(_)) =>
            {
                t.clone()
            }
            _ => {
                return Err(format!(
                    "resource {resource}: method finish must be func() -> T (T the aggregate's result, an option's none is NULL)"
                ));
            }
        };
        let merge = match find(MethodKind::Method, "merge") {
            None => false,
            Some(m)
                if matches!(&m.params[..], [(_, Slot::Borrow), (_, Slot::Own)])
                    && m.result.is_none() =>
            {
                true
            }
            Some(_) => {
                return Err(format!(
                    "resource {resource}: method merge must be func(other: {resource}), taking the other state"
                ));
            }
        };
        let serialize = find(MethodKind::Method, "serialize");
        let deserialize = find(MethodKind::Static, "deserialize");
        let serial = match (serialize, deserialize) {
            (None, None) => false,
            (Some(s), Some(d)) => {
                let s_ok = matches!(&s.params[..], [(_, Slot::Borrow)])
                    && s.result == Some(Slot::Value(bytes()));
                let d_ok = matches!(&d.params[..], [(_, Slot::Value(t))] if *t == bytes())
                    && d.result == Some(Slot::Own);
                if !s_ok {
                    return Err(format!(
                        "resource {resource}: method serialize must be func() -> list<u8>"
                    ));
                }
                if !d_ok {
                    return Err(format!(
                        "resource {resource}: deserialize must be static func(bytes: list<u8>) -> {resource}"
                    ));
                }
                true
            }
            (Some(_), None) => return Err(needs("static deserialize to go with serialize")),
            (None, Some(_)) => return Err(needs("method serialize to go with deserialize")),
        };
        let remove = match find(MethodKind::Method, "remove") {
            None => false,
            Some(m) => {
                let same = value_params(m)
                    .ok()
                    .is_some_and(|p| p.iter().map(|(_, t)| t).eq(args.iter().map(|(_, t)| t)));
                if !same || m.result.is_some() {
                    return Err(format!(
                        "resource {resource}: method remove must take the same parameters as add and return nothing"
                    ));
                }
                true
            }
        };
        let batch = match find(MethodKind::Method, "add-batch") {
            None => false,
            Some(m) => {
                let row = batch_row(&args);
                let fits = matches!(&m.params[..], [(_, Slot::Borrow), (_, Slot::Value(WitType::List(t)))] if **t == row)
                    && m.result.is_none();
                if !fits {
                    return Err(format!(
                        "resource {resource}: method add-batch must be func(rows: list<{row}>) and return nothing: \
                         the rows of add's parameters"
                    ));
                }
                true
            }
        };
        Ok(AggregateShape {
            args,
            result,
            merge,
            serial,
            remove,
            batch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn method(name: &str, params: Vec<Slot>, result: Option<Slot>) -> MethodSig {
        MethodSig {
            kind: MethodKind::Method,
            name: name.into(),
            params: params
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    (
                        if i == 0 {
                            "self".into()
                        } else {
                            format!("p{i}")
                        },
                        s,
                    )
                })
                .collect(),
            result,
        }
    }

    fn ctor() -> MethodSig {
        MethodSig {
            kind: MethodKind::Constructor,
            name: String::new(),
            params: vec![],
            result: Some(Slot::Own),
        }
    }

    fn f64v() -> Slot {
        Slot::Value(WitType::F64)
    }

    fn minimal() -> Vec<MethodSig> {
        vec![
            ctor(),
            method("add", vec![Slot::Borrow, f64v()], None),
            method(
                "finish",
                vec![Slot::Borrow],
                Some(Slot::Value(WitType::Option(Box::new(WitType::F64)))),
            ),
        ]
    }

    #[test]
    fn the_minimal_shape_and_every_option() {
        let shape = AggregateShape::check("median", &minimal()).unwrap();
        assert_eq!(shape.args, vec![("p1".to_string(), WitType::F64)]);
        assert!(!shape.merge && !shape.serial && !shape.remove);
        let mut all = minimal();
        all.push(method("merge", vec![Slot::Borrow, Slot::Own], None));
        all.push(method(
            "serialize",
            vec![Slot::Borrow],
            Some(Slot::Value(bytes())),
        ));
        all.push(MethodSig {
            kind: MethodKind::Static,
            name: "deserialize".into(),
            params: vec![("bytes".into(), Slot::Value(bytes()))],
            result: Some(Slot::Own),
        });
        all.push(method("remove", vec![Slot::Borrow, f64v()], None));
        all.push(method(
            "add-batch",
            vec![
                Slot::Borrow,
                Slot::Value(WitType::List(Box::new(WitType::F64))),
            ],
            None,
        ));
        let shape = AggregateShape::check("mean", &all).unwrap();
        assert!(shape.merge && shape.serial && shape.remove && shape.batch);
    }

    #[test]
    fn add_batch_takes_rows_of_adds_parameters() {
        let list = |t: WitType| Slot::Value(WitType::List(Box::new(t)));
        let pair = || WitType::Tuple(vec![WitType::F64, WitType::S64]);
        let two = |batch: MethodSig| {
            let mut ms = minimal();
            ms[1] = method(
                "add",
                vec![Slot::Borrow, f64v(), Slot::Value(WitType::S64)],
                None,
            );
            ms.push(batch);
            AggregateShape::check("r", &ms)
        };
        let ok = two(method("add-batch", vec![Slot::Borrow, list(pair())], None)).unwrap();
        assert!(ok.batch);
        assert_eq!(batch_row(&ok.args), pair());
        for bad in [
            // One row's parameters not as a tuple, a wrong element type, a result, no list.
            method("add-batch", vec![Slot::Borrow, list(WitType::F64)], None),
            method(
                "add-batch",
                vec![
                    Slot::Borrow,
                    list(WitType::Tuple(vec![WitType::F64, WitType::F64])),
                ],
                None,
            ),
            method("add-batch", vec![Slot::Borrow, list(pair())], Some(f64v())),
            method("add-batch", vec![Slot::Borrow, Slot::Value(pair())], None),
        ] {
            let err = two(bad).unwrap_err();
            assert!(
                err.contains("add-batch must be func(rows: list<tuple<f64, s64>>)"),
                "{err}"
            );
        }
        let mut ms = minimal();
        ms.push(method(
            "add-batch",
            vec![Slot::Borrow, list(WitType::S64)],
            None,
        ));
        let err = AggregateShape::check("r", &ms).unwrap_err();
        assert!(err.contains("list<f64>"), "{err}");
    }

    #[test]
    fn refusals_name_the_method() {
        let without = |name: &str| {
            let ms: Vec<MethodSig> = minimal().into_iter().filter(|m| m.name != name).collect();
            AggregateShape::check("r", &ms).unwrap_err()
        };
        assert!(without("add").contains("no method add"));
        assert!(without("finish").contains("no method finish"));
        assert!(without("").contains("no constructor"));
        let mut ms = minimal();
        ms[1] = method("add", vec![Slot::Borrow, f64v()], Some(f64v()));
        assert!(
            AggregateShape::check("r", &ms)
                .unwrap_err()
                .contains("add must return nothing")
        );
        let mut ms = minimal();
        ms[2] = method("finish", vec![Slot::Borrow], None);
        assert!(
            AggregateShape::check("r", &ms)
                .unwrap_err()
                .contains("finish must be")
        );
        let mut ms = minimal();
        ms.push(method(
            "remove",
            vec![Slot::Borrow, Slot::Value(WitType::S64)],
            None,
        ));
        assert!(
            AggregateShape::check("r", &ms)
                .unwrap_err()
                .contains("remove must take the same")
        );
        let mut ms = minimal();
        ms.push(method(
            "serialize",
            vec![Slot::Borrow],
            Some(Slot::Value(bytes())),
        ));
        assert!(
            AggregateShape::check("r", &ms)
                .unwrap_err()
                .contains("deserialize")
        );
        let mut ms = minimal();
        ms.push(method("merge", vec![Slot::Borrow, Slot::Borrow], None));
        assert!(
            AggregateShape::check("r", &ms)
                .unwrap_err()
                .contains("merge must be")
        );
        let mut ms = minimal();
        ms[1] = method("add", vec![Slot::Borrow, Slot::Own], None);
        assert!(
            AggregateShape::check("r", &ms)
                .unwrap_err()
                .contains("resource handle")
        );
    }
}
