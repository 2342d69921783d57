//! Unit tests of the safetensors reader and writer.

use super::*;

#[test]
fn every_float_dtype_converts_into_f32_and_f64() {
    let vals = [1.0f64, -2.5, 0.15625, 1024.0];
    let t64 = Tensor::<f64>::from_vec(vals.to_vec(), &[2, 2]).unwrap();
    let st = StoredTensor::from_float(&t64);
    for d in [Dtype::F64, Dtype::F32, Dtype::F16, Dtype::BF16] {
        let c = st.cast(d).unwrap();
        assert_eq!(c.dtype(), d);
        assert_eq!(c.bytes().len(), 4 * d.size());
        assert_eq!(c.to_float::<f64>().unwrap().to_vec(), vals.to_vec(), "{d}");
        assert_eq!(c.to_float::<f32>().unwrap().shape(), &[2, 2]);
    }
    // Rounding F64 → F16 is visible.
    let third = StoredTensor::from_float(&Tensor::<f64>::from_vec(vec![1.0 / 3.0], &[1]).unwrap());
    let h = third
        .cast(Dtype::F16)
        .unwrap()
        .to_float::<f64>()
        .unwrap()
        .to_vec()[0];
    assert!((h - 1.0 / 3.0).abs() < 1e-3 && h != 1.0 / 3.0);
}

#[test]
fn integers_read_as_i64_and_usize() {
    let t = StoredTensor::from_i64(&[4], &[0, 5, -1, i64::MAX]).unwrap();
    assert_eq!(t.to_i64().unwrap(), vec![0, 5, -1, i64::MAX]);
    let e = t.to_usize().unwrap_err().to_string();
    assert!(e.contains("-1 at position 2"), "{e}");
    let u8s = StoredTensor::from_raw(Dtype::U8, &[3], vec![1, 2, 255]).unwrap();
    assert_eq!(u8s.to_usize().unwrap(), vec![1, 2, 255]);
    let i32s = StoredTensor::from_raw(
        Dtype::I32,
        &[2],
        [-7i32, 9].iter().flat_map(|v| v.to_le_bytes()).collect(),
    )
    .unwrap();
    assert_eq!(i32s.to_i64().unwrap(), vec![-7, 9]);
    assert!(matches!(
        t.to_float::<f32>(),
        Err(NnError::Dtype {
            got: Dtype::I64,
            ..
        })
    ));
    let f = StoredTensor::from_float(&Tensor::<f32>::zeros(&[1]));
    assert!(matches!(
        f.to_i64(),
        Err(NnError::Dtype {
            got: Dtype::F32,
            ..
        })
    ));
    assert!(StoredTensor::from_i64(&[2], &[1]).is_err());
}

#[test]
fn round_trip_keeps_order_dtypes_and_metadata() {
    let mut sd = StateDict::new();
    sd.insert(
        "z",
        StoredTensor::from_float(&Tensor::<f32>::from_vec(vec![1.0, 2.0], &[2]).unwrap()),
    );
    sd.insert("a", StoredTensor::from_i64(&[], &[42]).unwrap());
    sd.insert("m", StoredTensor::from_u64(&[2], &[u64::MAX, 3]).unwrap());
    sd.metadata_mut().insert("format".into(), "neurite".into());
    let back = StateDict::from_bytes(&sd.to_bytes().unwrap()).unwrap();
    assert_eq!(back, sd);
    assert_eq!(back.names().collect::<Vec<_>>(), ["a", "m", "z"]);
    assert_eq!(back.get("m").unwrap().to_u64().unwrap(), vec![u64::MAX, 3]);
    assert!(back.get("m").unwrap().to_i64().is_err());
    let mut s2 = back.clone();
    assert!(s2.remove("z").is_some());
    assert_eq!(s2.get("m").unwrap().dtype(), Dtype::U64);
    assert!(matches!(
        s2.require("z"),
        Err(NnError::MissingTensor { .. })
    ));
}

#[test]
fn corrupt_bytes_are_parse_errors() {
    let mut sd = StateDict::new();
    sd.insert("x", StoredTensor::from_float(&Tensor::<f64>::zeros(&[3])));
    let b = sd.to_bytes().unwrap();
    for cut in [0, 5, 9, b.len() - 1] {
        assert!(
            matches!(StateDict::from_bytes(&b[..cut]), Err(NnError::Parse { .. })),
            "{cut}"
        );
    }
    // A header claiming an absurd length is refused before anything is allocated for it.
    let mut evil = (u64::MAX / 2).to_le_bytes().to_vec();
    evil.extend_from_slice(b"{}");
    assert!(matches!(
        StateDict::from_bytes(&evil),
        Err(NnError::Parse { .. })
    ));
}
#[test]
fn a_streamed_save_is_the_serialised_bytes_and_loads_back() {
    let mut sd = StateDict::new();
    let mut rng = neurite_tensor::Rng::new(3);
    sd.insert(
        "w",
        StoredTensor::from_float(&Tensor::<f32>::rand_normal(&[37, 5], 0.0, 1.0, &mut rng)),
    );
    sd.insert(
        "b",
        StoredTensor::from_float(&Tensor::<f64>::rand_normal(&[3], 0.0, 1.0, &mut rng)),
    );
    sd.insert("n", StoredTensor::scalar_i64(7));
    sd.insert(
        "h",
        StoredTensor::from_raw(Dtype::F16, &[2], vec![0, 60, 0, 188]).unwrap(),
    );
    sd.insert(
        "e",
        StoredTensor::from_float(&Tensor::<f32>::zeros(&[0, 4])),
    );
    sd.metadata_mut().insert("format".into(), "x".into());
    for k in ["epoch", "step", "lr", "example", "seed", "b", "a"] {
        sd.metadata_mut().insert(k.into(), format!("value of {k}"));
    }
    // The same dict gives the same bytes every time (the metadata is sorted, not in a
    // hash map's order), and the safetensors crate reads them as the same tensors.
    let first = sd.to_bytes().unwrap();
    for _ in 0..8 {
        assert_eq!(sd.clone().to_bytes().unwrap(), first);
    }
    let st = safetensors::SafeTensors::deserialize(&first).unwrap();
    assert_eq!(st.len(), sd.len());
    for (name, t) in sd.iter() {
        let view = st.tensor(name).unwrap();
        assert_eq!(view.shape(), t.shape());
        assert_eq!(view.data(), t.bytes());
    }
    let dir = std::env::temp_dir().join(format!("neurite-tf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sd.safetensors");
    sd.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes, sd.to_bytes().unwrap());
    assert_eq!(StateDict::load(&path).unwrap(), sd);
    // Any cut of the file, and a byte too many, is a parse error.
    for cut in [0, 7, 8, 20, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert!(
            matches!(StateDict::load(&path), Err(NnError::Parse { .. })),
            "{cut}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        StateDict::from_bytes(&long),
        Err(NnError::Parse { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn headers_that_do_not_fit_their_data_are_refused() {
    let file = |header: &str, data: usize| {
        let mut b = (header.len() as u64).to_le_bytes().to_vec();
        b.extend_from_slice(header.as_bytes());
        b.extend(std::iter::repeat_n(0u8, data));
        StateDict::from_bytes(&b)
    };
    let ok = r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#;
    assert_eq!(file(ok, 8).unwrap().get("a").unwrap().numel(), 2);
    for (header, data) in [
        // Size of the shape and of the offsets disagree.
        (
            r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#,
            8,
        ),
        // Overlapping, and a gap.
        (
            r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}"#,
            6,
        ),
        (
            r#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[1,5]}}"#,
            5,
        ),
        // A huge shape over little data: refused before anything is allocated for it.
        (
            r#"{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,8]}}"#,
            8,
        ),
        (
            r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,18446744073709551615]}}"#,
            8,
        ),
        // Unknown dtype, missing fields, not an object.
        (
            r#"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#,
            1,
        ),
        (r#"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, 4),
        (r#"[1, 2]"#, 0),
        (r#"{"__metadata__":{"k":1}}"#, 0),
    ] {
        assert!(
            matches!(file(header, data), Err(NnError::Parse { .. })),
            "{header}"
        );
    }
    // The data must fill the file exactly.
    assert!(file(ok, 7).is_err() && file(ok, 9).is_err());
}

#[test]
fn a_view_writes_the_bytes_of_the_dict_it_copies_into() {
    let w = Tensor::<f64>::from_vec(vec![1.0, -2.0, 0.5, 3.25, 7.0, -0.125], &[2, 3]).unwrap();
    let moments = [0.5f64, 1.5, -2.5];
    let mut v = StateView::<f64>::new();
    v.insert("w", TensorView::tensor(&w));
    // A transposed (not standard-layout) tensor is written in row-major order of its shape.
    v.insert("wt", TensorView::tensor(&w.transpose(0, 1).unwrap()));
    v.insert("m", TensorView::slice(&[3], &moments).unwrap());
    v.insert("n", TensorView::stored(StoredTensor::scalar_i64(9)));
    let labels = StoredTensor::from_i64(&[2], &[4, 1]).unwrap();
    v.insert("labels", TensorView::stored_ref(&labels));
    v.metadata_mut().insert("b".into(), "2".into());
    v.metadata_mut().insert("a".into(), "1".into());
    let sd = v.to_state_dict();
    assert_eq!(
        sd.names().collect::<Vec<_>>(),
        ["w", "wt", "m", "n", "labels"]
    );
    assert_eq!(sd.get("w"), Some(&StoredTensor::from_float(&w)));
    let wt = sd.get("wt").unwrap();
    assert_eq!(wt.shape(), [3, 2]);
    assert_eq!(
        wt.to_float::<f64>().unwrap().to_vec(),
        [1.0, 3.25, -2.0, 7.0, 0.5, -0.125]
    );
    assert_eq!(
        sd.get("m"),
        Some(&StoredTensor::from_slice(&[3], &moments).unwrap())
    );
    let bytes = v.to_bytes().unwrap();
    assert_eq!(bytes, sd.to_bytes().unwrap());
    assert_eq!(StateDict::from_bytes(&bytes).unwrap(), sd);
    let path = std::env::temp_dir().join(format!("neurite-view-{}.st", std::process::id()));
    v.save(&path).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    std::fs::remove_file(&path).unwrap();
    // A slice that does not fill its shape is refused.
    let e = TensorView::slice(&[2, 2], &moments)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("needs 4 values, got 3"), "{e}");
}

#[test]
fn take_sub_moves_a_prefix_out() {
    let mut sd = StateDict::new();
    for (n, v) in [
        ("model.a", 1),
        ("optim.a", 2),
        ("model.b", 3),
        ("modelx", 4),
    ] {
        sd.insert(n, StoredTensor::scalar_i64(v));
    }
    let copy = sd.sub("model");
    let model = sd.take_sub("model");
    assert_eq!(model, copy);
    assert_eq!(model.names().collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(sd.names().collect::<Vec<_>>(), ["optim.a", "modelx"]);
    assert_eq!(sd.get("modelx").unwrap().to_i64().unwrap(), [4]);
    assert!(!sd.contains("model.a"));
}

#[test]
fn float_tensors_read_from_bytes_move_out_without_a_copy() {
    let w = Tensor::<f32>::from_vec(vec![1.0, -2.0, 0.5, 3.25, 7.0, -0.125], &[2, 3]).unwrap();
    let d = Tensor::<f64>::from_vec(vec![0.1, 0.2], &[2]).unwrap();
    let mut sd = StateDict::new();
    sd.insert("w", StoredTensor::from_float(&w));
    sd.insert("d", StoredTensor::from_float(&d));
    sd.insert("n", StoredTensor::scalar_i64(5));
    let bytes = sd.to_bytes().unwrap();
    let back = StateDict::from_bytes(&bytes).unwrap();
    // Held as values, equal to the dict that holds bytes, and writing the same bytes.
    assert_eq!(back, sd);
    assert_eq!(back.to_bytes().unwrap(), bytes);
    let t = back.get("w").unwrap().clone();
    let at = t.bytes().as_ptr();
    let v = t.into_float_vec::<f32>().unwrap();
    if cfg!(target_endian = "little") {
        assert_eq!(v.as_ptr().cast::<u8>(), at, "moved, not copied");
    }
    assert_eq!(v, w.to_vec());
    // Into the other float type, or from bytes, the values convert.
    let wide = back
        .get("w")
        .unwrap()
        .clone()
        .into_float_vec::<f64>()
        .unwrap();
    assert_eq!(wide, [1.0, -2.0, 0.5, 3.25, 7.0, -0.125]);
    let narrow = back
        .get("d")
        .unwrap()
        .clone()
        .into_float_vec::<f32>()
        .unwrap();
    assert_eq!(narrow, [0.1f32, 0.2]);
    let held = sd
        .get("d")
        .unwrap()
        .clone()
        .into_float_vec::<f64>()
        .unwrap();
    assert_eq!(held, d.to_vec());
    assert!(back
        .get("n")
        .unwrap()
        .clone()
        .into_float_vec::<f64>()
        .is_err());
}
